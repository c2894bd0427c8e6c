import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import {
  EnvHeader,
  envOptions,
  IEnvHeaderProps
} from '../components/EnvHeader';

import { changesOff } from '../envstate';
import { IEnv } from '../tokens';

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

const SHARED: IEnv = {
  name: 'datasci',
  kind: 'venv',
  path: '/srv/userpkg/shared/datasci',
  kernel: 'userpkg-datasci',
  packages: 38,
  revision: 1,
  python: '3.11',
  shared: true,
  over: '',
  notes: []
};

const LAYER: IEnv = {
  name: 'plots',
  kind: 'layer',
  path: '/home/ana/.local/share/jupyter/userpkg/envs/plots',
  kernel: 'userpkg-plots',
  packages: 1,
  revision: 0,
  python: '3.11',
  shared: false,
  over: 'datasci',
  notes: [
    "the shared environment 'datasci' changed (revision 0 -> 1) since this layer was " +
      'solved against it: run `jupyter userpkg update -n plots --all`'
  ]
};

function header(env: IEnv, busy: boolean): IEnvHeaderProps {
  return {
    trans,
    envNames: ['plots', 'datasci'],
    selected: env.name,
    env,
    notebookEnv: null,
    hasNotebook: false,
    notebookKernel: null,
    busy,
    loading: false,
    onSelect: jest.fn(),
    onCreate: jest.fn(),
    onDelete: jest.fn(),
    onRefresh: jest.fn()
  };
}

function facts(): string[] {
  return Array.from(host.querySelectorAll('.jp-userpkg-env-fact')).map(
    span => span.textContent ?? ''
  );
}

describe('shared environments in the panel', () => {
  it('marks a shared env read-only and its delete is off when the panel says busy', () => {
    // The panel passes busy for a shared env (widget.tsx): its change actions are off.
    act(() => root.render(<EnvHeader {...header(SHARED, true)} />));
    expect(facts()).toContain('shared, read-only: changed by the administrator');
    const remove = host.querySelector('button.jp-userpkg-delete-button');
    expect(remove?.hasAttribute('disabled')).toBe(true);
  });

  it('marks the shared envs in the env list', () => {
    const options = envOptions(trans, ['plots', 'datasci'], {}, ['datasci']);
    expect(options.map(o => o.label)).toEqual([
      'plots',
      'datasci (shared, read-only)'
    ]);
  });

  it("says which shared env a layer is over, and that it needs update", () => {
    act(() => root.render(<EnvHeader {...header(LAYER, false)} />));
    expect(facts()).toContain('over datasci');
    expect(facts().some(f => f.includes('update -n plots --all'))).toBe(true);
    expect(facts()).not.toContain('shared, read-only: changed by the administrator');
  });
});

describe('change actions on a shared env', () => {
  it('are off on a shared env, also with no job running, and on any env while a job runs', () => {
    expect(changesOff(false, SHARED)).toBe(true);
    expect(changesOff(false, LAYER)).toBe(false);
    expect(changesOff(true, LAYER)).toBe(true);
    expect(changesOff(false, null)).toBe(false);
  });
});
