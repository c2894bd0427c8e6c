import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { ICreateEnvRequest, IKind, IUploadedFile } from '../tokens';

import { Select, TextInput } from './controls';

/**
 * The rule the server holds env names to.
 */
export const ENV_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Properties of the create form.
 */
export interface ICreateFormProps {
  trans: TranslationBundle;
  busy: boolean;
  /**
   * The kinds the server makes (`GET kinds`): the options, the one selected
   * first, and which fields apply to each.
   */
  kinds: IKind[];
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
 * The kind a form has selected: the one picked, else the server's default.
 */
export function selectedKind(kinds: IKind[], picked: string | null): IKind | null {
  return (
    kinds.find(k => k.name === picked) ??
    kinds.find(k => k.default) ??
    kinds[0] ??
    null
  );
}

/**
 * What the create form's fields hold.
 */
export interface ICreateFields {
  name: string;
  python: string;
  channels: string;
  specs: string;
  file: IUploadedFile | null;
}

/**
 * The request the fields make with `kind`, sending only what it takes; a file
 * chosen with no kind picked (`picked` false) brings its own kind.
 */
export function createRequest(
  fields: ICreateFields,
  kind: IKind | null,
  picked: boolean
): ICreateEnvRequest {
  const { file } = fields;
  // A file chosen without a kind picked brings its own kind: both may apply.
  const fileKind = file !== null && !picked;
  const request: ICreateEnvRequest = { name: fields.name.trim() };
  if (kind && !fileKind) {
    request.kind = kind.name;
  }
  if (fields.python.trim() && (fileKind || kind?.python_version)) {
    request.python = fields.python.trim();
  }
  const channels = splitList(fields.channels);
  if (channels.length > 0 && (fileKind || kind?.channels)) {
    request.channels = channels;
  }
  const specs = splitList(fields.specs, false);
  if (specs.length > 0) {
    request.specs = specs;
  }
  if (file) {
    request.file = file;
  }
  return request;
}

/**
 * What is wrong with an env name ("" when nothing is).
 */
function nameProblem(trans: TranslationBundle, name: string): string {
  return ENV_NAME.test(name.trim())
    ? ''
    : trans.__(
        'A name has 1 to 64 letters, digits, ".", "_" or "-", and starts with a letter or digit.'
      );
}

/**
 * The form that creates an environment, from fields or from a file.
 */
export function CreateForm(props: ICreateFormProps): JSX.Element {
  const { trans, kinds } = props;
  const [fields, setFields] = React.useState<ICreateFields>({
    name: '',
    python: '',
    channels: '',
    specs: '',
    file: null
  });
  const set = <K extends keyof ICreateFields>(key: K) => (value: ICreateFields[K]) =>
    setFields(now => ({ ...now, [key]: value }));
  // The kind the user picked; null: none yet (the server's default shows).
  const [picked, setPicked] = React.useState<string | null>(null);
  const [problem, setProblem] = React.useState('');
  const kind = selectedKind(kinds, picked);
  const fileKind = fields.file !== null && picked === null;
  const uses = {
    python: fileKind || !!kind?.python_version,
    channels: fileKind || !!kind?.channels
  };
  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    const wrong = nameProblem(trans, fields.name);
    setProblem(wrong);
    if (!wrong) {
      props.onSubmit(createRequest(fields, kind, picked !== null));
    }
  };
  return (
    <form
      className="jp-userpkg-create-form"
      aria-label={trans.__('Create an environment')}
      onSubmit={onSubmit}
    >
      <h3 className="jp-userpkg-section-title">
        {trans.__('New environment')}
      </h3>
      <label htmlFor={fieldId('name')}>{trans.__('Name')}</label>
      <TextInput
        id={fieldId('name')}
        name="name"
        className="jp-mod-styled"
        value={fields.name}
        required
        autoFocus
        onChange={e => set('name')(e.currentTarget.value)}
      />
      <KindField trans={trans} kinds={kinds} kind={kind} onPick={setPicked} />
      <SourceFields
        trans={trans}
        kinds={kinds}
        kind={kind}
        uses={uses}
        python={fields.python}
        channels={fields.channels}
        onPython={set('python')}
        onChannels={set('channels')}
      />
      <label htmlFor={fieldId('specs')}>{trans.__('Packages')}</label>
      <TextInput
        id={fieldId('specs')}
        name="specs"
        className="jp-mod-styled"
        placeholder={trans.__('e.g. numpy pandas<3 (separated by blanks)')}
        value={fields.specs}
        onChange={e => set('specs')(e.currentTarget.value)}
      />
      <FileField trans={trans} onFile={set('file')} onProblem={setProblem} />
      <FormFooter
        trans={trans}
        busy={props.busy}
        problem={problem}
        onCancel={props.onCancel}
      />
    </form>
  );
}

/**
 * The id of a field of the create form.
 */
function fieldId(field: string): string {
  return `jp-userpkg-create-${field}`;
}

/**
 * The kind picker: one option per kind the server makes, labelled with its
 * name; the selected kind's summary under it.
 */
function KindField(props: {
  trans: TranslationBundle;
  kinds: IKind[];
  kind: IKind | null;
  onPick: (name: string) => void;
}): JSX.Element {
  const { trans, kinds, kind } = props;
  return (
    <>
      <label htmlFor={fieldId('kind')}>{trans.__('Kind')}</label>
      <Select
        id={fieldId('kind')}
        name="kind"
        className="jp-userpkg-kind-select"
        value={kind?.name ?? ''}
        options={kinds.map(k => ({ value: k.name, label: k.name }))}
        disabled={kinds.length === 0}
        onChange={props.onPick}
      />
      {kind && <p className="jp-userpkg-kind-summary">{kind.summary}</p>}
    </>
  );
}

/**
 * Where the env's packages come from: its Python version and its channels,
 * each enabled only for the kinds that take it (see `IKind`).
 */
function SourceFields(props: {
  trans: TranslationBundle;
  kinds: IKind[];
  kind: IKind | null;
  uses: { python: boolean; channels: boolean };
  python: string;
  channels: string;
  onPython: (value: string) => void;
  onChannels: (value: string) => void;
}): JSX.Element {
  const { trans, kinds, kind, uses } = props;
  const only = (names: string[]) =>
    trans.__('%1 environments only', names.join(', '));
  return (
    <>
      <label htmlFor={fieldId('python')}>{trans.__('Python version')}</label>
      <TextInput
        id={fieldId('python')}
        name="python"
        className="jp-mod-styled"
        placeholder={
          uses.python
            ? trans.__('e.g. 3.11')
            : kind?.base
              ? trans.__("a %1 uses the base's Python", kind.name)
              : only(kinds.filter(k => k.python_version).map(k => k.name))
        }
        disabled={!uses.python}
        value={props.python}
        onChange={e => props.onPython(e.currentTarget.value)}
      />
      <label htmlFor={fieldId('channels')}>{trans.__('Channels')}</label>
      <TextInput
        id={fieldId('channels')}
        name="channels"
        className="jp-mod-styled"
        placeholder={
          uses.channels
            ? trans.__('conda channels, separated by commas or blanks')
            : only(kinds.filter(k => k.channels).map(k => k.name))
        }
        disabled={!uses.channels}
        value={props.channels}
        onChange={e => props.onChannels(e.currentTarget.value)}
      />
    </>
  );
}

/**
 * Creating from a file instead: environment.yml, requirements.txt or an
 * exported lock, read in the browser and sent with the request.
 */
function FileField(props: {
  trans: TranslationBundle;
  onFile: (file: IUploadedFile | null) => void;
  onProblem: (problem: string) => void;
}): JSX.Element {
  const { trans } = props;
  const onFile = async (event: React.ChangeEvent<HTMLInputElement>) => {
    const chosen = event.currentTarget.files?.[0];
    props.onProblem('');
    if (!chosen) {
      props.onFile(null);
      return;
    }
    try {
      props.onFile(await readFile(chosen));
    } catch {
      props.onFile(null);
      props.onProblem(trans.__('The file %1 cannot be read.', chosen.name));
    }
  };
  return (
    <>
      <label htmlFor={fieldId('file')}>
        {trans.__('Or from a file (environment.yml, requirements.txt, lock)')}
      </label>
      <input
        id={fieldId('file')}
        type="file"
        name="file"
        accept=".yml,.yaml,.txt,.in,.toml,.lock"
        onChange={e => void onFile(e)}
      />
    </>
  );
}

/**
 * What is wrong with the form, if anything; Create and Cancel.
 */
function FormFooter(props: {
  trans: TranslationBundle;
  busy: boolean;
  problem: string;
  onCancel: () => void;
}): JSX.Element {
  const { trans } = props;
  return (
    <>
      {props.problem && (
        <div className="jp-userpkg-error jp-userpkg-form-problem" role="alert">
          <p className="jp-userpkg-error-message">{props.problem}</p>
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
    </>
  );
}
