import { TranslationBundle } from '@jupyterlab/translation';

import * as React from 'react';

import type { UserPkgModel } from '../model';

import { Tab } from '../modeltypes';

import { ErrorView } from './ErrorView';
import { JobProgress } from './JobProgress';
import { PlanView } from './PlanView';

/**
 * Where an action's plan, progress and error show: under the package row,
 * the search result's details or the revision it was taken on; `top`: at
 * the top of the panel (an action of no place, or of a place not shown).
 */
export type ActivityPlace =
  | { tab: 'packages'; name: string | null }
  | { tab: 'search'; name: string }
  | { tab: 'history'; revision: number }
  | 'top';

/**
 * The place of `origin` (see `UserPkgModel.origin`) while `tab` is shown.
 */
export function activityPlace(
  origin: string | null,
  tab: Tab,
  infoName: string | null
): ActivityPlace {
  if (origin === null) {
    return 'top';
  }
  const [kind, ...rest] = origin.split(':');
  const key = rest.join(':');
  if (kind === 'package' && tab === 'packages') {
    return { tab, name: key };
  }
  if (kind === 'update-all' && tab === 'packages') {
    return { tab, name: null };
  }
  if (kind === 'info' && tab === 'search' && infoName === key) {
    return { tab, name: key };
  }
  if (kind === 'revision' && tab === 'history') {
    return { tab, revision: Number(key) };
  }
  return 'top';
}

/**
 * What an action brought: "Solving…", its plan, its job's progress, its
 * error. Null when there is nothing.
 */
export function activityNode(
  model: UserPkgModel,
  trans: TranslationBundle,
  title: string,
  onShowPolicy: () => void
): React.ReactNode {
  const job = model.job;
  const parts: React.ReactNode[] = [];
  if (model.error) {
    parts.push(
      <ErrorView
        key="error"
        trans={trans}
        error={model.error}
        onDismiss={() => model.dismissError()}
        onShowPolicy={onShowPolicy}
      />
    );
  }
  if (job) {
    parts.push(
      <JobProgress
        key="job"
        trans={trans}
        job={job}
        onCancel={() => void model.cancelJob()}
      />
    );
  }
  if (model.planning) {
    parts.push(
      <p key="planning" className="jp-userpkg-planning" role="status">
        {trans.__('Solving…')}
      </p>
    );
  }
  if (model.pending) {
    parts.push(
      <PlanView
        key="plan"
        trans={trans}
        plan={model.pending.plan}
        title={title}
        busy={job !== null}
        cached={model.selectedKind?.channels ?? false}
        onApply={() => void model.applyPending()}
        onDiscard={() => model.discardPending()}
      />
    );
  }
  if (parts.length === 0) {
    return null;
  }
  return (
    <div className="jp-userpkg-activity" aria-live="assertive">
      {parts}
    </div>
  );
}
