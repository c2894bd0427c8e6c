import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { ErrorView } from '../components/ErrorView';
import { PackageList } from '../components/PackageList';
import { PlanView } from '../components/PlanView';

import { IPackage } from '../tokens';

import { PLAN } from './fakes';

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

function rows(): string[] {
  return Array.from(host.querySelectorAll('li.jp-userpkg-package-row')).map(
    row => row.getAttribute('data-package') ?? ''
  );
}

describe('components', () => {
  it('renders a thousand packages, requested first, and filters them as you type', async () => {
    const packages: IPackage[] = Array.from({ length: 1000 }, (_, i) => ({
      name: `pkg-${String(i).padStart(4, '0')}`,
      version: '1.0',
      source: i % 2 ? 'pypi' : 'base',
      index: null,
      requested: i % 3 === 0
    }));
    const onRemove = jest.fn();
    act(() =>
      root.render(
        <PackageList
          trans={trans}
          extendsBase={false}
          packages={packages}
          busy={false}
          onRemove={onRemove}
          onUpdate={jest.fn()}
          onUpdateAll={jest.fn()}
        />
      )
    );
    // What was asked for (odd numbers are PyPI, every third is asked for).
    expect(rows()).toHaveLength(167);
    const deps = host.querySelector('input.jp-userpkg-show-dependencies') as HTMLInputElement;
    act(() => deps.click());
    expect(rows()).toHaveLength(500);
    const base = host.querySelector('input.jp-userpkg-show-base') as HTMLInputElement;
    act(() => base.click());
    expect(rows()).toHaveLength(1000);
    const input = host.querySelector('input.jp-userpkg-filter') as HTMLInputElement;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    await act(async () => {
      setValue.call(input, 'pkg_099');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    // Asked for first (0993, 0999), then dependencies, then the base.
    expect(rows()).toEqual([
      'pkg-0993', 'pkg-0999', 'pkg-0991', 'pkg-0995', 'pkg-0997',
      'pkg-0990', 'pkg-0992', 'pkg-0994', 'pkg-0996', 'pkg-0998'
    ]);
    const menu = (name: string) =>
      host.querySelector(`li[data-package="${name}"] button.jp-userpkg-package-menu`) as HTMLButtonElement;
    act(() => menu('pkg-0993').click());
    expect(menu('pkg-0993').getAttribute('aria-expanded')).toBe('true');
    const remove = host.querySelector('li[data-package="pkg-0993"] .jp-userpkg-remove-button') as HTMLButtonElement;
    act(() => remove.click());
    expect(onRemove).toHaveBeenCalledWith('pkg-0993');
    // A dependency cannot be removed on its own: the row says why instead.
    act(() => menu('pkg-0991').click());
    expect(host.querySelector('li[data-package="pkg-0991"] .jp-userpkg-remove-button')).toBeNull();
    expect(host.querySelector('li[data-package="pkg-0991"] .jp-userpkg-package-role')?.textContent).toContain(
      'dependency'
    );
    // Nor a base package.
    act(() => menu('pkg-0990').click());
    expect(host.querySelector('li[data-package="pkg-0990"] .jp-userpkg-remove-button')).toBeNull();
  });

  it("says what needs a dependency when its row opens", async () => {
    const dependents = jest.fn(async () => ['python-slugify']);
    act(() =>
      root.render(
        <PackageList
          trans={trans}
          extendsBase={false}
          packages={[{ name: 'text-unidecode', version: '1.3', source: 'pypi', requested: false }]}
          busy={false}
          dependents={dependents}
          onRemove={jest.fn()}
          onUpdate={jest.fn()}
          onUpdateAll={jest.fn()}
        />
      )
    );
    act(() => (host.querySelector('input.jp-userpkg-show-dependencies') as HTMLInputElement).click());
    await act(async () => {
      (host.querySelector('button.jp-userpkg-package-menu') as HTMLButtonElement).click();
    });
    expect(dependents).toHaveBeenCalledWith('text-unidecode');
    expect(host.querySelector('.jp-userpkg-package-needed-by')?.textContent).toBe('Needed by: python-slugify');
  });

  it('shows what an action brought under its row', () => {
    act(() =>
      root.render(
        <PackageList
          trans={trans}
          extendsBase={false}
          packages={[{ name: 'tabulate', version: '0.9.0', source: 'pypi', requested: true }]}
          busy={false}
          activity={{ name: 'tabulate', node: <p className="brought">plan</p> }}
          onRemove={jest.fn()}
          onUpdate={jest.fn()}
          onUpdateAll={jest.fn()}
        />
      )
    );
    expect(host.querySelector('li[data-package="tabulate"] .brought')).not.toBeNull();
  });

  it('says a plan with nothing to change, without Apply; Escape discards', () => {
    const onDiscard = jest.fn();
    act(() =>
      root.render(
        <PlanView
          trans={trans}
          plan={{ ...PLAN, changes: [], download_bytes: 0 }}
          title="Plan"
          busy={false}
          cached={false}
          onApply={jest.fn()}
          onDiscard={onDiscard}
        />
      )
    );
    expect(host.querySelector('.jp-userpkg-plan-summary')?.textContent).toContain('Nothing to change');
    expect(host.querySelector('button.jp-userpkg-apply')).toBeNull();
    const plan = host.querySelector('.jp-userpkg-plan') as HTMLElement;
    expect(document.activeElement).toBe(plan);
    act(() => {
      plan.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    });
    expect(onDiscard).toHaveBeenCalled();
  });

  it('shows a plan with its changes and download', () => {
    const onApply = jest.fn();
    act(() =>
      root.render(
        <PlanView trans={trans} plan={PLAN} title="Plan" busy={false} cached={false} onApply={onApply} onDiscard={jest.fn()} />
      )
    );
    const change = host.querySelector('.jp-userpkg-plan-change[data-package="numpy"]');
    expect(change?.getAttribute('data-action')).toBe('change');
    expect(change?.textContent).toContain('1.26.4 -> 2.1.3');
    expect(host.querySelector('.jp-userpkg-plan-download')?.textContent).toContain('1.2 KB');
    act(() => (host.querySelector('button.jp-userpkg-apply') as HTMLButtonElement).click());
    expect(onApply).toHaveBeenCalled();
  });

  it('folds the explanation of an error underneath', () => {
    act(() =>
      root.render(
        <ErrorView
          trans={trans}
          error={{ code: 'unsatisfiable', message: 'cannot be satisfied', details: 'because' }}
          onDismiss={jest.fn()}
        />
      )
    );
    expect(host.querySelector('.jp-userpkg-error-message')?.textContent).toBe('cannot be satisfied');
    expect(host.querySelector('details.jp-userpkg-error-details pre')?.textContent).toBe('because');
    expect(host.querySelector('.jp-userpkg-error')?.getAttribute('role')).toBe('alert');
    expect(host.querySelector('.jp-userpkg-error-remedy')?.textContent).toContain('Loosen a version pin');
  });
});
