/**
 * The panel asks kinds what they can do (`GET kinds`), never which one an
 * env is: a kind the panel has never heard of is offered, and behaves, by
 * its answers alone.
 */
import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { CreateForm } from '../components/CreateForm';
import { EnvActions } from '../components/EnvActions';

import { UserPkgModel } from '../model';

import { ICreateEnvRequest, IEnv, IKind } from '../tokens';

import { ENVS, FakeService, KINDS } from './fakes';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A kind no release has: channels, no Python version of its own, no requirements export. */
const PIXIE: IKind = {
  name: 'pixie',
  summary: 'an invented kind: channels over a fixed Python',
  default: false,
  base: false,
  channels: true,
  python_version: false,
  pypi: false,
  exports: ['lock']
};

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

function input(name: string): HTMLInputElement {
  return host.querySelector(`input[name="${name}"]`) as HTMLInputElement;
}

function select(): HTMLSelectElement {
  return host.querySelector('select[name="kind"]') as HTMLSelectElement;
}

function change(element: HTMLInputElement | HTMLSelectElement, value: string): void {
  const proto = Object.getPrototypeOf(element);
  Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(element, value);
  element.dispatchEvent(new Event(element instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

function renderForm(kinds: IKind[], onSubmit = jest.fn()): jest.Mock {
  act(() =>
    root.render(
      <CreateForm trans={trans} busy={false} kinds={kinds} onSubmit={onSubmit} onCancel={jest.fn()} />
    )
  );
  return onSubmit;
}

describe('the create form, built from GET kinds', () => {
  it('offers every kind the server lists, a fourth one too, with its summary', () => {
    renderForm([...KINDS, PIXIE]);
    const options = Array.from(select().options).map(o => o.value);
    expect(options).toEqual(['layer', 'venv', 'conda', 'pixie']);
    // The server's default is selected first, and says what it is.
    expect(select().value).toBe('layer');
    const summary = () => host.querySelector('.jp-userpkg-kind-summary')?.textContent;
    expect(summary()).toBe(KINDS[0].summary);
    act(() => change(select(), 'pixie'));
    expect(select().value).toBe('pixie');
    expect(summary()).toBe('an invented kind: channels over a fixed Python');
  });

  it('enables the Python and Channels inputs by what the selected kind takes', () => {
    renderForm([...KINDS, PIXIE]);
    const enabled = () => ({ python: !input('python').disabled, channels: !input('channels').disabled });
    // layer: its base's Python, no channels.
    expect(enabled()).toEqual({ python: false, channels: false });
    expect(input('python').placeholder).toBe("a layer uses the base's Python");
    expect(input('channels').placeholder).toBe('conda, pixie environments only');
    act(() => change(select(), 'venv'));
    expect(enabled()).toEqual({ python: true, channels: false });
    act(() => change(select(), 'conda'));
    expect(enabled()).toEqual({ python: true, channels: true });
    act(() => change(select(), 'pixie'));
    expect(enabled()).toEqual({ python: false, channels: true });
    expect(input('python').placeholder).toBe('venv, conda environments only');
  });

  it('sends the kind picked, and only the fields it takes', () => {
    const onSubmit = renderForm([...KINDS, PIXIE]);
    act(() => change(input('name'), 'new-env'));
    act(() => change(select(), 'venv'));
    act(() => change(input('python'), '3.12'));
    act(() => change(select(), 'pixie'));
    act(() => change(input('channels'), 'conda-forge, bioconda'));
    act(() => (host.querySelector('button.jp-userpkg-create-submit') as HTMLButtonElement).click());
    const sent: ICreateEnvRequest = onSubmit.mock.calls[0][0];
    // The Python typed for venv is not sent: pixie takes none.
    expect(sent).toEqual({ name: 'new-env', kind: 'pixie', channels: ['conda-forge', 'bioconda'] });
  });

  it('selects the kind the server calls its default, wherever it is listed', () => {
    const kinds = KINDS.map(k => ({ ...k, default: false }));
    renderForm([...kinds, { ...PIXIE, default: true }]);
    expect(select().value).toBe('pixie');
  });
});

describe('actions asked of the selected env kind', () => {
  it('offers only the exports the kind writes', () => {
    const env: IEnv = { name: 'p', kind: 'pixie', path: '/e/p', kernel: null, packages: 0, revision: 1 };
    act(() =>
      root.render(
        <EnvActions trans={trans} env={env} kind={PIXIE} onExport={jest.fn()} onOpenNotebook={jest.fn()} onOpenConsole={jest.fn()} />
      )
    );
    const disabled = Array.from(host.querySelectorAll<HTMLButtonElement>('button.jp-userpkg-export')).map(b => [
      b.dataset.format,
      b.disabled
    ]);
    expect(disabled).toEqual([
      ['requirements', true],
      ['environment', true],
      ['lock', false]
    ]);
  });

  it('reads GET kinds once, and searches the channels of a kind that has them', async () => {
    const fake = new FakeService();
    fake.kindList = [...KINDS, PIXIE];
    fake.envs = [...ENVS, { name: 'px', kind: 'pixie', path: '/e/px', kernel: null, packages: 0, revision: 1 }];
    const model = new UserPkgModel(fake.asService());
    await model.refresh();
    await model.refresh();
    expect(fake.kinds).toHaveBeenCalledTimes(1);
    expect(model.kinds.map(k => k.name)).toEqual(['layer', 'venv', 'conda', 'pixie']);
    expect(model.selectedKind?.base).toBe(true);
    expect(model.search.source).toBe('pypi');
    await model.select('px');
    expect(model.selectedKind).toEqual(PIXIE);
    expect(model.search.source).toBe('conda');
    model.dispose();
  });
});
