import { TranslationBundle } from '@jupyterlab/translation';

import {
  addIcon,
  Button,
  deleteIcon,
  IOptionProps,
  refreshIcon
} from '@jupyterlab/ui-components';

import * as React from 'react';

import { policyIcon } from '../icons';

import { DEFAULT_ENV, IAdvisory, IEnv, IKind } from '../tokens';

import { AdvisoryMark, advisoriesTooltip } from './Advisories';

import { keepWords, Select } from './controls';

/**
 * Properties of the env header.
 */
export interface IEnvHeaderProps {
  trans: TranslationBundle;
  envNames: string[];
  selected: string;
  env: IEnv | null;
  /** The kind `default` is made as, by its first change (null: not read yet). */
  defaultKind?: IKind | null;
  /** The env of the active notebook's kernel (null: no notebook). */
  notebookEnv: string | null;
  /** Whether a notebook (or console) is active. */
  hasNotebook: boolean;
  /** The kernelspec name of the active notebook (null: none). */
  notebookKernel: string | null;
  busy: boolean;
  loading: boolean;
  /** The advisories of each env that has some (the env list marks them). */
  advisories?: Record<string, IAdvisory[]>;
  /** The administrator's shared envs (the env list marks them read-only). */
  sharedEnvs?: string[];
  /** Whether the policy is being read. */
  policyLoading?: boolean;
  onSelect: (env: string) => void;
  onCreate: () => void;
  onDelete: (env: string) => void;
  onRefresh: () => void;
  /** Show the administrator's policy. */
  onPolicy?: () => void;
  /** Pick another kernel for the active notebook. */
  onChangeKernel?: () => void;
}

/**
 * The env list's options: an env with advisories is marked with their count,
 * and lists them in its tooltip.
 */
export function envOptions(
  trans: TranslationBundle,
  names: string[],
  advisories: Record<string, IAdvisory[]> = {},
  shared: string[] = []
): IOptionProps[] {
  return names.map(name => {
    const found = advisories[name] ?? [];
    const shown = shared.includes(name) ? trans.__('%1 (shared, read-only)', name) : name;
    if (found.length === 0) {
      return { value: name, label: shown };
    }
    const option = {
      value: name,
      label: trans.__('%1 ⚠ %2', shown, found.length),
      title: advisoriesTooltip(trans, found),
      'data-advisories': String(found.length)
    };
    return option as IOptionProps;
  });
}

/**
 * Which env is shown, which one the notebook uses, and the env buttons.
 */
export function EnvHeader(props: IEnvHeaderProps): JSX.Element {
  const { trans, selected } = props;
  const selectId = 'jp-userpkg-env-select';
  return (
    <div className="jp-userpkg-header">
      <div className="jp-userpkg-header-row">
        <label htmlFor={selectId} className="jp-userpkg-label">
          {trans.__('Environment')}
        </label>
        <AdvisoryMark
          trans={trans}
          advisories={props.advisories?.[selected] ?? []}
        />
        <span className="jp-userpkg-spacer" />
        <EnvButtons {...props} />
      </div>
      <Select
        id={selectId}
        className="jp-userpkg-env-select"
        value={selected}
        options={envOptions(trans, props.envNames, props.advisories, props.sharedEnvs)}
        onChange={props.onSelect}
      />
      <p className="jp-userpkg-env-summary">
        {summaryParts(props).map((part, i) => (
          <React.Fragment key={i}>
            {i > 0 && ' · '}
            <span className="jp-userpkg-env-fact" title={part}>
              {part}
            </span>
          </React.Fragment>
        ))}
      </p>
      <CurrentEnv {...props} />
    </div>
  );
}

/**
 * Create, delete, refresh and (under a policy) the policy's button.
 */
function EnvButtons(props: IEnvHeaderProps): JSX.Element {
  const { trans, env, selected } = props;
  return (
    <>
      <Button
        className="jp-userpkg-create-button"
        minimal
        small
        title={trans.__('Create an environment')}
        aria-label={trans.__('Create an environment')}
        onClick={props.onCreate}
      >
        <addIcon.react tag="span" />
      </Button>
      <Button
        className="jp-userpkg-delete-button"
        minimal
        small
        title={trans.__('Delete environment %1', selected)}
        aria-label={trans.__('Delete environment %1', selected)}
        disabled={props.busy || env === null}
        onClick={() => props.onDelete(selected)}
      >
        <deleteIcon.react tag="span" />
      </Button>
      <Button
        className="jp-userpkg-refresh-button"
        minimal
        small
        title={trans.__('Refresh')}
        aria-label={trans.__('Refresh')}
        aria-busy={props.loading}
        onClick={props.onRefresh}
      >
        <refreshIcon.react tag="span" />
      </Button>
      {props.onPolicy && (
        <Button
          className="jp-userpkg-policy-button"
          minimal
          small
          title={trans.__("The administrator's policy")}
          aria-label={trans.__("The administrator's policy")}
          aria-busy={props.policyLoading ?? false}
          onClick={props.onPolicy}
        >
          <policyIcon.react tag="span" />
        </Button>
      )}
    </>
  );
}

/**
 * Which env the active notebook uses, or that it is gone with a way out.
 */
function CurrentEnv(props: IEnvHeaderProps): JSX.Element {
  const { trans } = props;
  if (!envGone(props)) {
    return <p className="jp-userpkg-current-env">{keepWords(currentText(props))}</p>;
  }
  return (
    <div className="jp-userpkg-env-gone" role="alert">
      <p className="jp-userpkg-current-env">
        {keepWords(
          trans.__(
            "This notebook's environment, %1, is gone: its kernel runs an interpreter that was deleted.",
            props.notebookEnv
          )
        )}
      </p>
      {props.onChangeKernel && (
        <Button
          className="jp-userpkg-change-kernel"
          small
          onClick={props.onChangeKernel}
        >
          {trans.__('Change kernel')}
        </Button>
      )}
    </div>
  );
}

/**
 * Whether the active notebook's kernel belongs to an env that no longer
 * exists (deleted while the notebook ran).
 */
function envGone(props: IEnvHeaderProps): boolean {
  const env = props.notebookEnv;
  return (
    props.hasNotebook &&
    env !== null &&
    env !== DEFAULT_ENV &&
    !props.loading &&
    !props.envNames.includes(env)
  );
}

function currentText(props: IEnvHeaderProps): string {
  const { trans, notebookEnv, notebookKernel } = props;
  if (!props.hasNotebook) {
    return trans.__('No notebook is active.');
  }
  if (notebookEnv === null || notebookKernel === null) {
    return trans.__('This notebook has no kernel.');
  }
  const own = notebookKernel.toLowerCase() === `userpkg-${DEFAULT_ENV}`;
  if (notebookEnv === DEFAULT_ENV && !own) {
    return trans.__('This notebook uses the base environment (default layer)');
  }
  return trans.__('This notebook: %1', notebookEnv);
}

function summaryParts(props: IEnvHeaderProps): string[] {
  const { trans, env, selected } = props;
  if (env === null) {
    const kind = props.defaultKind ?? null;
    const made = kind?.base
      ? trans.__('%1 over the base environment', kind.name)
      : kind?.name ?? '';
    return selected === DEFAULT_ENV
      ? [made, trans.__('created by its first change')].filter(Boolean)
      : [trans.__('not found')];
  }
  if (env.kind === 'broken') {
    return [trans.__('broken: its metadata cannot be read')];
  }
  const parts = [
    env.kind,
    env.shared ? trans.__('shared, read-only: changed by the administrator') : '',
    env.over ? trans.__('over %1', env.over) : '',
    ...(env.notes ?? []),
    env.python ? trans.__('Python %1', env.python) : '',
    trans.__('revision %1', env.revision),
    env.kernel ? trans.__('kernel %1', env.kernel) : trans.__('no kernel')
  ];
  return parts.filter(Boolean);
}
