import { TranslationBundle } from '@jupyterlab/translation';

import { Button, historyIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { IRevision } from '../tokens';

import { keepWords } from './controls';
import { describeChange } from './PlanView';

/**
 * Properties of the history view.
 */
export interface IHistoryViewProps {
  trans: TranslationBundle;
  history: IRevision[];
  busy: boolean;
  onRollback: (revision: number) => void;
  /** What a rollback asked for brought (its plan, progress or error). */
  activity?: { revision: number; node: React.ReactNode } | null;
}

/**
 * A time of the server (ISO 8601) in the reader's words.
 */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/**
 * Every revision, newest first, with its changes; the earlier ones can be
 * returned to (the plan is shown first).
 */
export function HistoryView(props: IHistoryViewProps): JSX.Element {
  const { trans, history } = props;
  if (history.length === 0) {
    return (
      <div className="jp-userpkg-history">
        <p className="jp-userpkg-empty">
          {trans.__('No revision yet: the first change makes revision 0.')}
        </p>
      </div>
    );
  }
  const current = Math.max(...history.map(r => r.revision));
  const newestFirst = [...history].sort((a, b) => b.revision - a.revision);
  return (
    <ol className="jp-userpkg-history" reversed>
      {newestFirst.map(rev => (
        <li
          key={rev.revision}
          className="jp-userpkg-revision"
          data-revision={rev.revision}
        >
          <div className="jp-userpkg-revision-head">
            <span className="jp-userpkg-revision-number">
              {rev.revision === current
                ? trans.__('Revision %1 (current)', rev.revision)
                : trans.__('Revision %1', rev.revision)}
            </span>
            <time className="jp-userpkg-revision-time" dateTime={rev.time}>
              {formatTime(rev.time)}
            </time>
          </div>
          <code className="jp-userpkg-revision-command">
            {keepWords(rev.command)}
          </code>
          {rev.changes.length > 0 && (
            <ul className="jp-userpkg-revision-changes">
              {rev.changes.map(change => (
                <li
                  key={`${change.action}:${change.name}:${change.source}`}
                  data-action={change.action}
                  data-package={change.name}
                >
                  {change.action === 'add'
                    ? '+ '
                    : change.action === 'remove'
                      ? '- '
                      : '~ '}
                  {keepWords(describeChange(change))}
                </li>
              ))}
            </ul>
          )}
          {rev.revision !== current && (
            <Button
              className="jp-userpkg-rollback-button"
              small
              disabled={props.busy}
              aria-label={trans.__('Roll back to revision %1', rev.revision)}
              title={trans.__('Roll back to revision %1', rev.revision)}
              onClick={() => props.onRollback(rev.revision)}
            >
              <historyIcon.react tag="span" />
              {trans.__('Roll back to this revision')}
            </Button>
          )}
          {props.activity?.revision === rev.revision && props.activity.node}
        </li>
      ))}
    </ol>
  );
}
