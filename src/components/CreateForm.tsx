import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { ICreateEnvRequest, IUploadedFile } from '../tokens';

import { Select, TextInput } from './controls';

/**
 * The rule the server holds env names to.
 */
export const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

type Kind = 'layer' | 'venv' | 'conda';

/**
 * Properties of the create form.
 */
export interface ICreateFormProps {
  trans: TranslationBundle;
  busy: boolean;
  onSubmit: (request: ICreateEnvRequest) => void;
  onCancel: () => void;
}

/**
 * Words separated by blanks or commas.
 */
export function splitList(text: string, commas = true): string[] {
  return text
    .split(commas ? /[\s,]+/ : /\s+/)
    .map(word => word.trim())
    .filter(Boolean);
}

/**
 * Read a chosen file as text.
 */
export function readFile(file: Blob & { name: string }): Promise<IUploadedFile> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () =>
      resolve({ name: file.name, content: String(reader.result ?? '') });
    reader.onerror = () => reject(reader.error);
    reader.readAsText(file);
  });
}

/**
 * The form that creates an environment, from fields or from a file.
 */
export function CreateForm(props: ICreateFormProps): JSX.Element {
  const { trans } = props;
  const [name, setName] = React.useState('');
  const [kind, setKind] = React.useState<Kind>('layer');
  const [kindTouched, setKindTouched] = React.useState(false);
  const [python, setPython] = React.useState('');
  const [channels, setChannels] = React.useState('');
  const [specs, setSpecs] = React.useState('');
  const [file, setFile] = React.useState<IUploadedFile | null>(null);
  // A file chosen without a kind picked brings its own kind: both may apply.
  const fileKind = file !== null && !kindTouched;
  const usesPython = fileKind || kind !== 'layer';
  const usesChannels = fileKind || kind === 'conda';
  const [problem, setProblem] = React.useState('');

  const onFile = async (event: React.ChangeEvent<HTMLInputElement>) => {
    const chosen = event.currentTarget.files?.[0];
    setProblem('');
    if (!chosen) {
      setFile(null);
      return;
    }
    try {
      setFile(await readFile(chosen));
    } catch {
      setFile(null);
      setProblem(trans.__('The file %1 cannot be read.', chosen.name));
    }
  };

  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    const trimmed = name.trim();
    if (!ENV_NAME.test(trimmed)) {
      setProblem(
        trans.__(
          'A name has 1 to 64 letters, digits, ".", "_" or "-", and starts with a letter or digit.'
        )
      );
      return;
    }
    const request: ICreateEnvRequest = { name: trimmed };
    if (!file || kindTouched) {
      request.kind = kind;
    }
    if (python.trim() && usesPython) {
      request.python = python.trim();
    }
    if (splitList(channels).length > 0 && usesChannels) {
      request.channels = splitList(channels);
    }
    if (splitList(specs, false).length > 0) {
      request.specs = splitList(specs, false);
    }
    if (file) {
      request.file = file;
    }
    setProblem('');
    props.onSubmit(request);
  };

  const id = (field: string) => `jp-userpkg-create-${field}`;
  return (
    <form
      className="jp-userpkg-create-form"
      aria-label={trans.__('Create an environment')}
      onSubmit={onSubmit}
    >
      <h3 className="jp-userpkg-section-title">
        {trans.__('New environment')}
      </h3>
      <label htmlFor={id('name')}>{trans.__('Name')}</label>
      <TextInput
        id={id('name')}
        name="name"
        className="jp-mod-styled"
        value={name}
        required
        autoFocus
        onChange={e => setName(e.currentTarget.value)}
      />
      <label htmlFor={id('kind')}>{trans.__('Kind')}</label>
      <Select
        id={id('kind')}
        name="kind"
        className="jp-userpkg-kind-select"
        value={kind}
        options={[
          { value: 'layer', label: trans.__('layer: over the base environment') },
          { value: 'venv', label: trans.__('venv: isolated, PyPI packages') },
          { value: 'conda', label: trans.__('conda: conda packages, and PyPI') }
        ]}
        onChange={value => {
          setKind(value as Kind);
          setKindTouched(true);
        }}
      />
      <label htmlFor={id('python')}>{trans.__('Python version')}</label>
      <TextInput
        id={id('python')}
        name="python"
        className="jp-mod-styled"
        placeholder={
          usesPython
            ? trans.__('e.g. 3.11')
            : trans.__("a layer uses the base's Python")
        }
        disabled={!usesPython}
        value={python}
        onChange={e => setPython(e.currentTarget.value)}
      />
      <label htmlFor={id('channels')}>{trans.__('Channels')}</label>
      <TextInput
        id={id('channels')}
        name="channels"
        className="jp-mod-styled"
        placeholder={
          usesChannels
            ? trans.__('conda channels, separated by commas or blanks')
            : trans.__('conda environments only')
        }
        disabled={!usesChannels}
        value={channels}
        onChange={e => setChannels(e.currentTarget.value)}
      />
      <label htmlFor={id('specs')}>{trans.__('Packages')}</label>
      <TextInput
        id={id('specs')}
        name="specs"
        className="jp-mod-styled"
        placeholder={trans.__('e.g. numpy pandas<3 (separated by blanks)')}
        value={specs}
        onChange={e => setSpecs(e.currentTarget.value)}
      />
      <label htmlFor={id('file')}>
        {trans.__('Or from a file (environment.yml, requirements.txt, lock)')}
      </label>
      <input
        id={id('file')}
        type="file"
        name="file"
        accept=".yml,.yaml,.txt,.in,.toml,.lock"
        onChange={e => void onFile(e)}
      />
      {problem && (
        <div className="jp-userpkg-error jp-userpkg-form-problem" role="alert">
          <p className="jp-userpkg-error-message">{problem}</p>
        </div>
      )}
      <div className="jp-userpkg-form-buttons">
        <Button
          type="submit"
          className="jp-userpkg-create-submit jp-mod-accept"
          disabled={props.busy}
        >
          {trans.__('Create')}
        </Button>
        <Button
          type="button"
          className="jp-userpkg-create-cancel jp-mod-reject"
          onClick={props.onCancel}
        >
          {trans.__('Cancel')}
        </Button>
      </div>
    </form>
  );
}
