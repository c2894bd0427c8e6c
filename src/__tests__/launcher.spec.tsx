import type { ILauncher } from '@jupyterlab/launcher';
import { nullTranslator } from '@jupyterlab/translation';
import type { ReadonlyJSONObject } from '@lumino/coreutils';

import * as React from 'react';

import { act } from 'react';

import { createRoot } from 'react-dom/client';

import { KernelNote } from '../components/KernelNote';

import { filterLauncher, shownInLauncher } from '../launcher';

import { IEnv, envKernel } from '../tokens';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

function item(launcher?: boolean): ILauncher.IItemOptions {
  const kernel: ReadonlyJSONObject =
    launcher === undefined ? {} : { userpkg: { env: 'e', launcher } };
  return { command: 'notebook:create-new', metadata: { kernel } };
}

describe('the launcher', () => {
  it('leaves out the kernels of envs the server leaves out of it', () => {
    expect(shownInLauncher(item(false))).toBe(false);
    expect(shownInLauncher(item(true))).toBe(true);
    expect(shownInLauncher(item())).toBe(true); // not an env's kernel
    expect(shownInLauncher({ command: 'terminal:create-new' })).toBe(true);
  });

  it("filters the model's items at every reading", () => {
    const items = [item(true), item(false), item()];
    const model = { items: () => items[Symbol.iterator]() };
    expect(filterLauncher(model)).toBe(true);
    expect(Array.from(model.items())).toEqual([items[0], items[2]]);
    items.push(item(false), item(true));
    expect(Array.from(model.items())).toHaveLength(3);
    expect(filterLauncher({})).toBe(false);
  });
});

const ENVS = [
  {
    name: 'stats',
    kind: 'conda',
    path: '/envs/stats',
    kernel: 'userpkg-stats',
    packages: 3,
    revision: 0,
    kernels: [
      { name: 'userpkg-stats', display_name: 'Python 3 (stats)', language: 'python' },
      { name: 'userpkg-stats--ir', display_name: 'R (stats)', language: 'R' }
    ]
  }
] as IEnv[];

describe('a kernel of another language', () => {
  it('is found with its env', () => {
    expect(envKernel(ENVS, 'userpkg-stats--ir')?.env).toBe('stats');
    expect(envKernel(ENVS, 'python3')).toBeNull();
  });

  it('says %userpkg is Python only, and not for a Python kernel', () => {
    const host = document.createElement('div');
    const root = createRoot(host);
    const note = (name: string) => {
      const found = envKernel(ENVS, name);
      act(() =>
        root.render(
          <KernelNote trans={trans} env={found?.env ?? null} kernel={found?.kernel ?? null} />
        )
      );
      return host.textContent ?? '';
    };
    expect(note('userpkg-stats--ir')).toContain('%userpkg works in Python kernels only');
    expect(note('userpkg-stats--ir')).toContain('R (stats)');
    expect(note('userpkg-stats')).toBe('');
    act(() => root.unmount());
  });
});
