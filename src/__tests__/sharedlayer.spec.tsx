import { ServerConnection } from '@jupyterlab/services';

import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import {
  ISharedNoticeProps,
  layerName,
  layerRequest,
  SharedNotice
} from '../components/SharedNotice';

import { UserPkgService } from '../service';

import { ICreateEnvRequest } from '../tokens';

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
  jest.restoreAllMocks();
});

function notice(overrides: Partial<ISharedNoticeProps> = {}): ISharedNoticeProps {
  return {
    trans,
    env: 'datasci',
    taken: ['default', 'plots', 'datasci'],
    busy: false,
    onCreate: jest.fn(),
    ...overrides
  };
}

function button(): HTMLButtonElement {
  return host.querySelector('button.jp-userpkg-create-layer') as HTMLButtonElement;
}

function nameInput(): HTMLInputElement {
  return host.querySelector('#jp-userpkg-layer-name') as HTMLInputElement;
}

/** Type into a React-controlled input as a user does. */
function type(input: HTMLInputElement, value: string): void {
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')?.set;
  setter?.call(input, value);
  act(() => {
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

function submit(): void {
  act(() => button().click());
}

describe('a layer of my own over a shared env', () => {
  it('says the env is read-only and offers the layer under a free default name', () => {
    act(() => root.render(<SharedNotice {...notice()} />));
    expect(host.textContent).toContain('datasci is shared and read-only');
    expect(button().textContent).toBe('Create my layer over datasci');
    expect(nameInput().value).toBe('datasci-mine');
  });

  it('sends POST envs with the name and over, no kind: the layer takes the shared one', async () => {
    const calls: Array<{ url: string; init: RequestInit }> = [];
    jest
      .spyOn(ServerConnection, 'makeRequest')
      .mockImplementation(async (url: string, init: RequestInit) => {
        calls.push({ url, init });
        return new Response(
          JSON.stringify({ id: '0'.repeat(32), env: 'mine', verb: 'create', state: 'queued' }),
          { status: 202, headers: { 'Content-Type': 'application/json' } }
        );
      });
    const service = new UserPkgService(
      ServerConnection.makeSettings({ baseUrl: 'http://h/base/' })
    );
    const sent: Promise<unknown>[] = [];
    const onCreate = (request: ICreateEnvRequest) => sent.push(service.createEnv(request));
    act(() => root.render(<SharedNotice {...notice({ onCreate })} />));
    type(nameInput(), 'mine');
    submit();
    await Promise.all(sent);
    expect(calls).toHaveLength(1);
    expect(calls[0].url).toBe('http://h/base/userpkg/api/envs');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ name: 'mine', over: 'datasci' });
  });

  it('skips a default name already taken', () => {
    expect(layerName('datasci', ['datasci-mine'])).toBe('datasci-mine-2');
    act(() =>
      root.render(<SharedNotice {...notice({ taken: ['datasci', 'datasci-mine'] })} />)
    );
    expect(nameInput().value).toBe('datasci-mine-2');
  });

  it('refuses a bad or taken name with one line and sends nothing', () => {
    const onCreate = jest.fn();
    act(() => root.render(<SharedNotice {...notice({ onCreate })} />));
    type(nameInput(), 'bad name');
    submit();
    expect(host.querySelector('[role="alert"]')?.textContent).toContain('A name has 1 to 64');
    type(nameInput(), 'plots');
    submit();
    expect(host.querySelector('[role="alert"]')?.textContent).toBe(
      'plots is taken: choose another name.'
    );
    expect(onCreate).not.toHaveBeenCalled();
  });

  it('waits while a job runs, and trims the name it sends', () => {
    act(() => root.render(<SharedNotice {...notice({ busy: true })} />));
    expect(button().disabled).toBe(true);
    expect(layerRequest(' mine ', 'datasci')).toEqual({ name: 'mine', over: 'datasci' });
  });

  it('offers a fresh default when another shared env is selected', () => {
    act(() => root.render(<SharedNotice {...notice()} />));
    type(nameInput(), 'custom');
    act(() =>
      root.render(<SharedNotice {...notice({ env: 'gpu', taken: ['gpu'] })} />)
    );
    expect(nameInput().value).toBe('gpu-mine');
    expect(button().textContent).toBe('Create my layer over gpu');
  });
});
