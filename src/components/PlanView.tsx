import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { IChange, IPlan } from '../tokens';

import { formatBytes, keepWords, useTakeFocus } from './controls';

/**
 * Properties of the plan preview.
 */
export interface IPlanViewProps {
  trans: TranslationBundle;
  plan: IPlan;
  /** What the plan is of, in words ("Install numpy", "Roll back to 2"). */
  title: string;
  busy: boolean;
  /**
   * Whether the env's kind links packages from a package cache (a kind with
   * `channels`): what is already cached is not counted in the download.
   */
  cached: boolean;
  onApply: () => void;
  onDiscard: () => void;
  /** The apply button's label (default "Apply"; "Create environment" for a create). */
  applyLabel?: string;
}

/**
 * One change in words: `numpy 1.26.4 -> 2.1.3`, `+ six 1.16.0`, `- six 1.16.0`.
 */
export function describeChange(change: IChange): string {
  switch (change.action) {
    case 'add':
      return `${change.name} ${change.new ?? ''}`.trim();
    case 'remove':
      return `${change.name} ${change.old ?? ''}`.trim();
    default:
      return `${change.name} ${change.old ?? '?'} -> ${change.new ?? '?'}`;
  }
}

const ORDER: Record<string, number> = { remove: 0, change: 1, add: 2 };

/**
 * What a change would do, before anything is touched: packages added,
 * removed and changed, the download, notes; then apply or discard.
 */
export function PlanView(props: IPlanViewProps): JSX.Element {
  const { trans, plan } = props;
  const changes = sortedChanges(plan.changes);
  const { ref, onKeyDown } = useTakeFocus<HTMLElement>(props.onDiscard);
  const titleId = `jp-userpkg-plan-title-${plan.env}`;
  return (
    <section
      ref={ref}
      className="jp-userpkg-plan"
      aria-labelledby={titleId}
      data-env={plan.env}
      data-empty={changes.length === 0 ? 'true' : undefined}
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      <h3 className="jp-userpkg-section-title" id={titleId}>
        {keepWords(props.title)}
      </h3>
      {plan.command && (
        <p className="jp-userpkg-plan-command">
          <code>{plan.command}</code>
        </p>
      )}
      <PlanChanges trans={trans} changes={changes} />
      <PlanFooter {...props} changes={changes} />
    </section>
  );
}

/**
 * The changes: removals first, then changes, then additions, each by name.
 */
function sortedChanges(changes: IChange[]): IChange[] {
  return [...changes].sort(
    (a, b) =>
      (ORDER[a.action] ?? 3) - (ORDER[b.action] ?? 3) ||
      a.name.localeCompare(b.name)
  );
}

/**
 * How many packages are added, changed and removed.
 */
function countChanges(changes: IChange[]): Record<string, number> {
  const counts: Record<string, number> = { add: 0, remove: 0, change: 0 };
  for (const change of changes) {
    counts[change.action] = (counts[change.action] ?? 0) + 1;
  }
  return counts;
}

/**
 * The plan's counts in words, then one line per change.
 */
function PlanChanges(props: {
  trans: TranslationBundle;
  changes: IChange[];
}): JSX.Element {
  const { trans, changes } = props;
  const counts = countChanges(changes);
  const actionLabel: Record<string, string> = {
    add: trans.__('add'),
    remove: trans.__('remove'),
    change: trans.__('change')
  };
  return (
    <>
      <p className="jp-userpkg-plan-summary">
        {changes.length === 0
          ? trans.__('Nothing to change: the environment already is as asked.')
          : trans.__(
              '%1 to add, %2 to change, %3 to remove',
              counts.add,
              counts.change,
              counts.remove
            )}
      </p>
      {changes.length > 0 && (
        <ul className="jp-userpkg-plan-changes">
          {changes.map(change => (
            <li
              key={`${change.action}:${change.name}:${change.source}`}
              className="jp-userpkg-plan-change"
              data-package={change.name}
              data-action={change.action}
            >
              <span className={`jp-userpkg-plan-action jp-mod-${change.action}`}>
                {actionLabel[change.action] ?? change.action}
              </span>{' '}
              <span className="jp-userpkg-plan-what">
                {keepWords(describeChange(change))}
              </span>{' '}
              <span className="jp-userpkg-plan-source">{change.source}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

/**
 * Under the changes: the download, the solver's notes, Apply and Discard.
 */
function PlanFooter(props: IPlanViewProps & { changes: IChange[] }): JSX.Element {
  const { trans, plan, changes } = props;
  const counts = countChanges(changes);
  return (
    <>
      {(plan.download_bytes > 0 || counts.add + counts.change > 0) && (
        <p className="jp-userpkg-plan-download">
          {props.cached
            ? trans.__(
                'To download: %1 (packages already in the package cache are not counted)',
                formatBytes(plan.download_bytes)
              )
            : trans.__('To download: %1', formatBytes(plan.download_bytes))}
        </p>
      )}
      {(plan.messages ?? []).map(message => (
        <p key={message} className="jp-userpkg-plan-note">
          {message}
        </p>
      ))}
      <div className="jp-userpkg-form-buttons">
        {changes.length > 0 && (
          <Button
            className="jp-userpkg-apply jp-mod-accept"
            disabled={props.busy}
            onClick={props.onApply}
          >
            {props.applyLabel ?? trans.__('Apply')}
          </Button>
        )}
        <Button
          className="jp-userpkg-discard jp-mod-reject"
          onClick={props.onDiscard}
        >
          {changes.length > 0 ? trans.__('Discard') : trans.__('Close')}
        </Button>
      </div>
    </>
  );
}
