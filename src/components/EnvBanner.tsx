import type { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import type { BannerReason, IEnvSummary } from '../notebookenv';

import type { IPlan } from '../tokens';

import { PlanView } from './PlanView';

/**
 * Where the banner's create stands: its plan asked for and shown (the
 * server's dry run of the create), the create running, or failed.
 */
export type BannerState =
  | { state: 'idle' }
  | { state: 'planning' }
  | { state: 'plan'; plan: IPlan }
  | { state: 'creating' }
  | { state: 'failed'; message: string };

/**
 * A list of capped items, with how many more there are.
 */
function Items(props: {
  items: string[];
  more: number;
  trans: TranslationBundle;
}): JSX.Element {
  const { items, more, trans } = props;
  return (
    <>
      {items.join(', ')}
      {more > 0 ? ` ${trans.__('and %1 more', more)}` : ''}
    </>
  );
}

/**
 * What the notebook asks for, in lines: its requests, the lock's package
 * count and the channels.  Every value is the notebook's own text, shown as
 * text (React escapes it) and already capped by `summarize`.
 */
export function EnvAsks(props: {
  summary: IEnvSummary;
  trans: TranslationBundle;
  full?: boolean;
}): JSX.Element {
  const { summary: s, trans } = props;
  const requests = [...s.pypi, ...s.conda];
  return (
    <ul className="jp-userpkg-EnvBanner-asks">
      <li>
        {trans.__('A %1 environment, Python %2', s.kind, s.python)}
      </li>
      <li className="jp-userpkg-EnvBanner-requests">
        {requests.length === 0 ? (
          trans.__('No requested packages')
        ) : (
          <>
            {trans.__('Requests:')} <Items items={requests} more={s.more} trans={trans} />
          </>
        )}
      </li>
      <li>
        {s.packages === null
          ? trans.__('Its lock is not in the notebook: the requests are solved anew')
          : trans._n('%1 package in its lock', '%1 packages in its lock', s.packages)}
      </li>
      {s.channels.length > 0 && (
        <li>
          {trans.__('Channels:')} <Items items={s.channels} more={0} trans={trans} />
        </li>
      )}
      {props.full && s.locked.length > 0 && (
        <li className="jp-userpkg-EnvBanner-locked">
          {trans.__('Locked:')}{' '}
          <Items
            items={s.locked}
            more={(s.packages ?? 0) - s.locked.length}
            trans={trans}
          />
        </li>
      )}
    </ul>
  );
}

/**
 * Under what the notebook asks for: the create or its plan in progress, the
 * plan in the panel's plan view (Create from there), or why it failed.
 */
function BannerStatus(props: {
  trans: TranslationBundle;
  summary: IEnvSummary;
  name: string;
  state: BannerState;
  onHidePlan: () => void;
  onCreate: () => void;
}): JSX.Element {
  const { trans, summary, name, state } = props;
  return (
    <>
      {state.state === 'creating' && (
        <div className="jp-userpkg-EnvBanner-status" role="status">
          {trans.__('Creating %1… (its progress is in the Packages panel)', name)}
        </div>
      )}
      {state.state === 'planning' && (
        <div className="jp-userpkg-EnvBanner-status" role="status">
          {trans.__('Planning %1…', name)}
        </div>
      )}
      {state.state === 'plan' && (
        <PlanView
          trans={trans}
          plan={state.plan}
          title={trans.__('Create %1 from this notebook', name)}
          busy={false}
          cached={summary.channels.length > 0}
          applyLabel={trans.__('Create environment')}
          onApply={props.onCreate}
          onDiscard={props.onHidePlan}
        />
      )}
      {state.state === 'failed' && (
        <div className="jp-userpkg-EnvBanner-error" role="alert">
          {state.message}
        </div>
      )}
    </>
  );
}

/**
 * At the top of a notebook whose `metadata.userpkg` names an env the user
 * lacks, or one whose lock differs from theirs: what it asks for and the
 * choices.  Nothing is built before "Create environment" is clicked.
 */
export function EnvBanner(props: {
  trans: TranslationBundle;
  summary: IEnvSummary;
  reason: BannerReason;
  /** The name the env would be created under (`<env>-2` when taken). */
  name: string;
  state: BannerState;
  onShowPlan: () => void;
  /** Close the plan, back to the banner's choices. */
  onHidePlan: () => void;
  onCreate: () => void;
  onOtherKernel: () => void;
  onDismiss: () => void;
}): JSX.Element {
  const { trans, summary, reason, name, state } = props;
  const busy = state.state === 'creating' || state.state === 'planning';
  const title =
    reason === 'missing'
      ? trans.__('This notebook runs in the environment %1, which you do not have.', summary.env)
      : trans.__('This notebook was made with another lock of your environment %1.', summary.env);
  return (
    <div
      className="jp-userpkg-EnvBanner"
      role="region"
      aria-label={trans.__("This notebook's environment")}
      data-env={summary.env}
      data-reason={reason}
    >
      <div className="jp-userpkg-EnvBanner-title">{title}</div>
      <EnvAsks summary={summary} trans={trans} />
      {name !== summary.env && (
        <div className="jp-userpkg-EnvBanner-name">
          {trans.__('It would be created as %1.', name)}
        </div>
      )}
      <BannerStatus {...props} />
      <div className="jp-userpkg-EnvBanner-actions">
        {state.state !== 'plan' && (
          <>
            <Button small minimal disabled={busy} onClick={props.onShowPlan}>
              {trans.__('Show plan')}
            </Button>
            <Button
              small
              className="jp-mod-accept"
              disabled={busy}
              onClick={props.onCreate}
            >
              {trans.__('Create environment')}
            </Button>
          </>
        )}
        <Button small minimal disabled={busy} onClick={props.onOtherKernel}>
          {trans.__('Use another kernel')}
        </Button>
        <Button small minimal onClick={props.onDismiss}>
          {trans.__('Dismiss')}
        </Button>
      </div>
    </div>
  );
}
