import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { ICreateEnvRequest } from '../tokens';

import { keepWords, TextInput } from './controls';

import { ENV_NAME } from './CreateForm';

/**
 * Properties of the notice a shared env shows.
 */
export interface ISharedNoticeProps {
  trans: TranslationBundle;
  /** The shared env selected. */
  env: string;
  /** The names already taken (the user's envs and the shared ones). */
  taken: string[];
  /** Whether a job or plan runs: the button waits for it. */
  busy: boolean;
  onCreate: (request: ICreateEnvRequest) => void;
}

/**
 * The request that makes the user's layer `name` over the shared env `over`:
 * no kind, Python or channels, since the layer takes the shared env's.
 */
export function layerRequest(name: string, over: string): ICreateEnvRequest {
  return { name: name.trim(), over };
}

/**
 * The first free name for a layer over `env`: `<env>-mine`, then
 * `<env>-mine-2`, ... (the server refuses a name taken).
 */
export function layerName(env: string, taken: string[]): string {
  const base = `${env}-mine`;
  let name = base;
  for (let n = 2; taken.includes(name); n++) {
    name = `${base}-${n}`;
  }
  return name;
}

/**
 * A shared env is read-only to the user: say so, and offer the way to add
 * packages to it, a layer of the user's own over it (`POST envs` with `over`).
 */
export function SharedNotice(props: ISharedNoticeProps): JSX.Element {
  const { trans, env } = props;
  const [name, setName] = React.useState(() => layerName(env, props.taken));
  const [problem, setProblem] = React.useState('');
  React.useEffect(() => {
    setName(layerName(env, props.taken));
    setProblem('');
  }, [env]);
  const inputId = 'jp-userpkg-layer-name';
  const onSubmit = (event: React.FormEvent) => {
    event.preventDefault();
    const wrong = layerProblem(trans, name, props.taken);
    setProblem(wrong);
    if (!wrong) {
      props.onCreate(layerRequest(name, env));
    }
  };
  return (
    <form
      className="jp-userpkg-shared-notice"
      aria-label={trans.__('Create my layer over %1', env)}
      onSubmit={onSubmit}
    >
      <p>
        {keepWords(
          trans.__(
            '%1 is shared and read-only: the administrator changes it. To add packages, make a layer of your own over it: it sees every package of %1 and holds only yours.',
            env
          )
        )}
      </p>
      <label htmlFor={inputId}>{trans.__('Name of your layer')}</label>
      <TextInput
        id={inputId}
        name="layer-name"
        className="jp-mod-styled"
        value={name}
        required
        onChange={e => setName(e.currentTarget.value)}
      />
      {problem && (
        <div className="jp-userpkg-error jp-userpkg-form-problem" role="alert">
          <p className="jp-userpkg-error-message">{problem}</p>
        </div>
      )}
      <div className="jp-userpkg-form-buttons">
        <Button
          type="submit"
          className="jp-userpkg-create-layer jp-mod-accept"
          small
          disabled={props.busy}
        >
          {keepWords(trans.__('Create my layer over %1', env))}
        </Button>
      </div>
    </form>
  );
}

/**
 * What is wrong with the layer's name ("" when nothing is).
 */
function layerProblem(
  trans: TranslationBundle,
  name: string,
  taken: string[]
): string {
  if (!ENV_NAME.test(name.trim())) {
    return trans.__(
      'A name has 1 to 64 letters, digits, ".", "_" or "-", and starts with a letter or digit.'
    );
  }
  if (taken.includes(name.trim())) {
    return trans.__('%1 is taken: choose another name.', name.trim());
  }
  return '';
}
