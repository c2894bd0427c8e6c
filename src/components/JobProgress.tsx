import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { IJob, isFinished } from '../tokens';

import { formatBytes } from './controls';

/**
 * Properties of the job progress.
 */
export interface IJobProgressProps {
  trans: TranslationBundle;
  job: IJob;
  onCancel: () => void;
}

/**
 * What a job does, in words.
 */
export function jobTitle(trans: TranslationBundle, job: IJob): string {
  switch (job.verb) {
    case 'create':
      return trans.__('Creating %1', job.env);
    case 'delete':
      return trans.__('Deleting %1', job.env);
    case 'rollback':
      return trans.__('Rolling back %1', job.env);
    default:
      return trans.__('Changing %1', job.env);
  }
}

/**
 * How far a phase is, in words: bytes and percent of a download, n of m
 * packages otherwise.
 */
export function countText(
  trans: TranslationBundle,
  phase: string,
  done: number,
  total: number
): string {
  const percent = Math.floor((100 * Math.min(done, total)) / total);
  if (phase === 'download') {
    return trans.__(
      '%1 of %2 (%3%)',
      formatBytes(done),
      formatBytes(total),
      percent
    );
  }
  return trans.__('%1 of %2 (%3%)', done, total, percent);
}

/**
 * A running job: its latest message, a progress bar and a cancel button.
 */
export function JobProgress(props: IJobProgressProps): JSX.Element {
  const { trans, job } = props;
  const last = job.events.length > 0 ? job.events[job.events.length - 1] : null;
  const counted = [...job.events]
    .reverse()
    .find(e => typeof e.total === 'number' && e.total > 0);
  const message =
    last?.message ??
    (job.state === 'queued'
      ? trans.__('Waiting to start…')
      : trans.__('Starting…'));
  const stopping = job.cancel_requested && !isFinished(job.state);
  return (
    <section
      className="jp-userpkg-progress"
      aria-label={trans.__('Progress')}
      data-job={job.id}
      data-state={job.state}
    >
      <div className="jp-userpkg-progress-title">{jobTitle(trans, job)}</div>
      <div
        className="jp-userpkg-progress-message"
        role="status"
        aria-live="polite"
        title={last ? `${last.phase}: ${message}` : message}
      >
        {last ? `${last.phase}: ${message}` : message}
      </div>
      {counted && (
        <div className="jp-userpkg-progress-count">
          {countText(trans, counted.phase, counted.done ?? 0, counted.total ?? 0)}
        </div>
      )}
      {counted ? (
        <progress
          className="jp-userpkg-progress-bar"
          value={Math.min(counted.done ?? 0, counted.total ?? 0)}
          max={counted.total ?? 1}
          aria-label={trans.__('Progress')}
        />
      ) : (
        <progress
          className="jp-userpkg-progress-bar"
          aria-label={trans.__('Progress')}
        />
      )}
      <Button
        className="jp-userpkg-cancel-job jp-mod-reject"
        small
        disabled={stopping || isFinished(job.state)}
        onClick={props.onCancel}
      >
        {stopping ? trans.__('Stopping…') : trans.__('Cancel')}
      </Button>
    </section>
  );
}
