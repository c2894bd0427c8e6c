import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { countText, JobProgress } from '../components/JobProgress';

import { IJob, IJobEvent } from '../tokens';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

let host: HTMLElement;
let root: Root;

beforeEach(() => {
  host = document.createElement('div');
  document.body.appendChild(host);
  root = createRoot(host);
});

afterEach(() => {
  act(() => root.unmount());
  host.remove();
});

function job(state: IJob['state'], events: IJobEvent[]): IJob {
  return {
    id: 'j1',
    env: 'analysis',
    verb: 'change',
    state,
    plan: null,
    events,
    result: null,
    error: null
  };
}

function show(value: IJob): void {
  act(() =>
    root.render(<JobProgress trans={trans} job={value} onCancel={jest.fn()} />)
  );
}

function text(selector: string): string {
  return host.querySelector(selector)?.textContent ?? '';
}

describe('job progress', () => {
  it('says packages downloaded of the plan and bytes of the known total', () => {
    // As the server reports a PyPI install: the start, then one event per finished package.
    show(
      job('running', [
        { phase: 'solve', message: 'resolving' },
        {
          phase: 'download',
          message: 'downloading 3 packages',
          package: null,
          done: 0,
          total: 4_800_000
        },
        {
          phase: 'download',
          message: 'downloaded numpy (1 of 3 packages)',
          package: 'numpy',
          done: 1_200_000,
          total: 4_800_000
        }
      ])
    );
    expect(text('.jp-userpkg-progress-message')).toBe(
      'download: downloaded numpy (1 of 3 packages)'
    );
    expect(text('.jp-userpkg-progress-count')).toBe('1.2 MB of 4.8 MB (25%)');
    const bar = host.querySelector('progress') as HTMLProgressElement;
    expect([bar.value, bar.max]).toEqual([1_200_000, 4_800_000]);
  });

  it('counts a small download in bytes too', () => {
    expect(countText(trans, 'download', 300, 900)).toBe('300 B of 900 B (33%)');
  });

  it('without counts the bar is indeterminate and nothing is made up', () => {
    show(job('running', [{ phase: 'download', message: 'Downloading numpy (16.1MiB)' }]));
    expect(host.querySelector('.jp-userpkg-progress-count')).toBeNull();
    expect(host.querySelector('progress')?.hasAttribute('value')).toBe(false);
  });

  it('says it waits for an earlier change only when the server says one runs', () => {
    show(job('queued', []));
    expect(text('.jp-userpkg-progress-message')).not.toMatch(/earlier change/);
    show(
      job('queued', [
        {
          phase: 'wait',
          message: 'waiting for an earlier change of this environment to finish'
        }
      ])
    );
    expect(text('.jp-userpkg-progress-message')).toMatch(/earlier change/);
  });
});
