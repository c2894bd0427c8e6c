import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { ErrorView } from '../components/ErrorView';
import { PackagesTable } from '../components/PackagesTable';
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
  return Array.from(host.querySelectorAll('tr.jp-userpkg-package-row')).map(
    row => row.getAttribute('data-package') ?? ''
  );
}

describe('components', () => {
  it('renders a thousand packages and filters them as you type', async () => {
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
        <PackagesTable
          trans={trans}
          packages={packages}
          busy={false}
          onRemove={onRemove}
          onUpdate={jest.fn()}
          onUpdateAll={jest.fn()}
        />
      )
    );
    expect(rows()).toHaveLength(1000);
    const input = host.querySelector('input.jp-userpkg-filter') as HTMLInputElement;
    const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
    await act(async () => {
      setValue.call(input, 'pkg_099');
      input.dispatchEvent(new Event('input', { bubbles: true }));
    });
    expect(rows()).toEqual(Array.from({ length: 10 }, (_, i) => `pkg-099${i}`));
    const remove = host.querySelector('tr[data-package="pkg-0991"] .jp-userpkg-remove-button') as HTMLButtonElement;
    act(() => remove.click());
    expect(onRemove).toHaveBeenCalledWith('pkg-0991');
    // A base package cannot be removed from the env.
    expect(host.querySelector('tr[data-package="pkg-0990"] .jp-userpkg-remove-button')).toBeNull();
  });

  it('shows a plan with its changes and download', () => {
    const onApply = jest.fn();
    act(() =>
      root.render(
        <PlanView trans={trans} plan={PLAN} title="Plan" busy={false} conda={false} onApply={onApply} onDiscard={jest.fn()} />
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
  });
});
