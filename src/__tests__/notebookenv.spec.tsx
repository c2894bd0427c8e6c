import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { BannerState, EnvBanner } from '../components/EnvBanner';

import {
  INotebookEnv,
  MAX_ITEMS,
  bannerReason,
  capText,
  freeName,
  lockPackages,
  metadataDiffers,
  notebooksOnEnv,
  readNotebookEnv,
  summarize,
  uploadBody
} from '../notebookenv';

import { envOfKernel } from '../tokens';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const LOCK =
  'lock-version = "1.0"\ncreated-by = "jupyter-userpkg"\n\n' +
  '[[packages]]\nname = "six"\nversion = "1.17.0"\n\n' +
  '[[packages]]\nname = "tabulate"\nversion = "0.9.0"\n';

const META: INotebookEnv = {
  env: 'analysis',
  kind: 'venv',
  python: '3.11',
  channels: [],
  requests: { pypi: ['tabulate==0.9.0'], conda: [] },
  lock: { format: 'jupyter-userpkg-lock', sha256: 'ab'.repeat(32), text: LOCK }
};

describe('readNotebookEnv', () => {
  it('takes metadata of the NotebookEnv shape', () => {
    expect(readNotebookEnv(JSON.parse(JSON.stringify(META)))).toEqual(META);
  });

  it('refuses what is not of that shape', () => {
    expect(readNotebookEnv(undefined)).toBeNull();
    expect(readNotebookEnv('analysis')).toBeNull();
    expect(readNotebookEnv({ ...META, env: '' })).toBeNull();
    expect(readNotebookEnv({ ...META, channels: [1] })).toBeNull();
    expect(readNotebookEnv({ ...META, requests: { pypi: 'x', conda: [] } })).toBeNull();
    expect(readNotebookEnv({ ...META, lock: { format: 'x', sha256: 1 } })).toBeNull();
    expect(readNotebookEnv({ ...META, lock: { ...META.lock, text: {} } })).toBeNull();
  });
});

describe('bannerReason', () => {
  it('asks when the env is missing', () => {
    expect(bannerReason(META, ['default', 'other'], null)).toBe('missing');
  });

  it('asks when the user has the env with another lock', () => {
    expect(bannerReason(META, ['analysis'], 'cd'.repeat(32))).toBe('differs');
  });

  it('is quiet when the user has the same lock, or it is unknown', () => {
    expect(bannerReason(META, ['analysis'], 'AB'.repeat(32))).toBeNull();
    expect(bannerReason(META, ['analysis'], null)).toBeNull();
  });
});

describe('freeName', () => {
  it('keeps a free name and numbers a taken one', () => {
    expect(freeName('analysis', ['default'])).toBe('analysis');
    expect(freeName('analysis', ['analysis'])).toBe('analysis-2');
    expect(freeName('analysis', ['analysis', 'analysis-2'])).toBe('analysis-3');
  });
});

describe('uploadBody', () => {
  it('is a notebook of the metadata only, named after the env, the metadata untouched', () => {
    const raw = { ...META, extra: '<script>' };
    const body = uploadBody(raw, 'analysis-2');
    expect(body.name).toBe('analysis-2');
    expect(body.file?.name).toBe('analysis-2.ipynb');
    expect(JSON.parse(body.file!.content)).toEqual({
      cells: [],
      metadata: { userpkg: raw }
    });
    expect(Object.keys(body).sort()).toEqual(['file', 'name']);
  });
});

describe('notebooksOnEnv', () => {
  const notebooks = [
    { path: 'a.ipynb', kernel: 'userpkg-analysis' },
    { path: 'b.ipynb', kernel: 'python3' },
    { path: 'c.ipynb', kernel: null },
    { path: 'd.ipynb', kernel: 'userpkg-other' },
    { path: 'e.ipynb', kernel: 'USERPKG-analysis' }
  ];
  const envForKernel = (kernel: string) => envOfKernel(kernel.toLowerCase());

  it('picks the notebooks whose kernel runs in the env', () => {
    const found = notebooksOnEnv(notebooks, n => n.kernel, envForKernel, 'analysis');
    expect(found.map(n => n.path)).toEqual(['a.ipynb', 'e.ipynb']);
  });

  it('counts the base kernel as the default env, as the panel does', () => {
    const found = notebooksOnEnv(notebooks, n => n.kernel, envForKernel, 'default');
    expect(found.map(n => n.path)).toEqual(['b.ipynb']);
  });
});

describe('metadataDiffers', () => {
  it('tells a new export from the one recorded', () => {
    expect(metadataDiffers(undefined, META)).toBe(true);
    expect(metadataDiffers(JSON.parse(JSON.stringify(META)), META)).toBe(false);
    expect(metadataDiffers(META, { ...META, python: '3.12' })).toBe(true);
  });
});

describe('summarize', () => {
  it('counts the lock and caps every field', () => {
    expect(lockPackages(LOCK)).toEqual(['six 1.17.0', 'tabulate 0.9.0']);
    const many = Array.from({ length: MAX_ITEMS + 5 }, (_, i) => `p${i}${'x'.repeat(200)}`);
    const s = summarize({
      ...META,
      env: 'e'.repeat(300),
      requests: { pypi: many, conda: [] }
    });
    expect(s.packages).toBe(2);
    expect(s.pypi).toHaveLength(MAX_ITEMS);
    expect(s.more).toBe(5);
    expect(s.pypi.every(p => p.length <= 80)).toBe(true);
    expect(s.env.length).toBeLessThanOrEqual(64);
    expect(capText('a\nb\u0007c')).toBe('a b c');
  });

  it('says when the lock carries no text', () => {
    const { text, ...lock } = META.lock;
    expect(text).toBeDefined();
    expect(summarize({ ...META, lock }).packages).toBeNull();
  });
});

describe('EnvBanner', () => {
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

  function show(
    meta: INotebookEnv,
    state: BannerState = { state: 'idle' },
    name = meta.env
  ): Record<string, jest.Mock> {
    const calls = {
      onShowPlan: jest.fn(),
      onHidePlan: jest.fn(),
      onCreate: jest.fn(),
      onOtherKernel: jest.fn(),
      onDismiss: jest.fn()
    };
    act(() =>
      root.render(
        <EnvBanner
          trans={trans}
          summary={summarize(meta)}
          reason="missing"
          name={name}
          state={state}
          {...calls}
        />
      )
    );
    return calls;
  }

  function button(label: string): HTMLButtonElement {
    const found = Array.from(host.querySelectorAll('button')).find(
      b => b.textContent === label
    );
    expect(found).toBeDefined();
    return found as HTMLButtonElement;
  }

  it('names the env, what it asks for, and offers the four choices', () => {
    const calls = show({ ...META, channels: ['conda-forge'] });
    const text = host.textContent ?? '';
    expect(text).toContain('analysis');
    expect(text).toContain('tabulate==0.9.0');
    expect(text).toContain('2 packages in its lock');
    expect(text).toContain('conda-forge');
    act(() => button('Create environment').click());
    act(() => button('Show plan').click());
    act(() => button('Use another kernel').click());
    act(() => button('Dismiss').click());
    for (const name of ['onCreate', 'onShowPlan', 'onOtherKernel', 'onDismiss']) {
      expect(calls[name]).toHaveBeenCalledTimes(1);
    }
  });

  it('renders the metadata as text, never as HTML', () => {
    show({ ...META, env: '<img src=x onerror=alert(1)>', requests: { pypi: ['<b>x</b>'], conda: [] } });
    expect(host.querySelector('img')).toBeNull();
    expect(host.querySelector('.jp-userpkg-EnvBanner-asks b')).toBeNull();
    expect(host.textContent).toContain('<b>x</b>');
  });

  it('says the other name and, while creating, disables creating again', () => {
    show(META, { state: 'creating' }, 'analysis-2');
    expect(host.textContent).toContain('It would be created as analysis-2.');
    expect(button('Create environment').disabled).toBe(true);
    expect(button('Dismiss').disabled).toBe(false);
  });

  it("shows the server's plan in the panel's plan view, with Create from there", () => {
    const plan = {
      env: 'analysis',
      command: 'create analysis --from analysis.ipynb',
      changes: [
        { action: 'add' as const, name: 'tabulate', old: null, new: '0.8.10', source: 'pypi' },
        { action: 'add' as const, name: 'six', old: null, new: '1.17.0', source: 'pypi' }
      ],
      download_bytes: 2048,
      from_revision: -1,
      messages: ['analysis.ipynb: installed from its requests: tabulate 0.9.0 is blocked']
    };
    const calls = show(META, { state: 'plan', plan });
    const view = host.querySelector('.jp-userpkg-EnvBanner .jp-userpkg-plan');
    expect(view).not.toBeNull();
    expect(view?.textContent).toContain('Create analysis from this notebook');
    expect(view?.textContent).toContain('tabulate');
    expect(view?.textContent).toContain('0.8.10');
    expect(view?.textContent).toContain('installed from its requests');
    // Create and Discard are the plan's; the banner's row keeps the other two.
    const labels = Array.from(host.querySelectorAll('button')).map(b => b.textContent);
    expect(labels).toEqual(['Create environment', 'Discard', 'Use another kernel', 'Dismiss']);
    const create = view?.querySelector('.jp-userpkg-apply') as HTMLButtonElement;
    expect(create.textContent).toBe('Create environment');
    act(() => create.click());
    expect(calls.onCreate).toHaveBeenCalledTimes(1);
    act(() => (view?.querySelector('.jp-userpkg-discard') as HTMLButtonElement).click());
    expect(calls.onHidePlan).toHaveBeenCalledTimes(1);
  });

  it('while planning, offers neither plan nor create again', () => {
    show(META, { state: 'planning' });
    expect(host.querySelector('[role="status"]')?.textContent).toContain('Planning analysis');
    expect(button('Show plan').disabled).toBe(true);
    expect(button('Create environment').disabled).toBe(true);
  });

  it('shows why a create failed', () => {
    show(META, { state: 'failed', message: 'requests[0]: options are not allowed' });
    expect(host.querySelector('[role="alert"]')?.textContent).toBe(
      'requests[0]: options are not allowed'
    );
  });
});
