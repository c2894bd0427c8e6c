import type { Kernel, KernelMessage } from '@jupyterlab/services';

import {
  importNames,
  kernelModules,
  parseModulesReply,
  staleModules
} from '../stale';

function reply(text: string, status = 'ok'): KernelMessage.IExecuteReplyMsg {
  return {
    content: {
      status,
      execution_count: null,
      user_expressions: { modules: { status: 'ok', data: { 'text/plain': text }, metadata: {} } }
    }
  } as unknown as KernelMessage.IExecuteReplyMsg;
}

describe('stale modules', () => {
  it('knows common import names that differ from the package name', () => {
    expect(importNames('scikit-learn')).toEqual(['sklearn', 'scikit_learn']);
    expect(importNames('Pillow')).toContain('PIL');
    expect(importNames('python-dateutil')).toContain('dateutil');
    expect(importNames('typing.extensions')).toEqual(['typing_extensions']);
    expect(importNames('tabulate')).toEqual(['tabulate']);
  });

  it('names the imported modules whose packages changed', () => {
    const changes = [
      { name: 'numpy', action: 'change' as const, old: '1', new: '2', source: 'pypi' },
      { name: 'pillow', action: 'remove' as const, old: '10', new: null, source: 'pypi' },
      { name: 'tabulate', action: 'add' as const, old: null, new: '0.9', source: 'pypi' }
    ];
    const stale = staleModules(changes, ['PIL', 'json', 'numpy', 'sys']);
    expect(stale).toEqual([
      { module: 'numpy', package: 'numpy', action: 'change' },
      { module: 'PIL', package: 'pillow', action: 'remove' }
    ]);
    expect(staleModules(changes, ['json'])).toEqual([]);
  });

  it("reads the kernel's answer", () => {
    expect(parseModulesReply(reply("'IPython json numpy sys'"))).toEqual(['IPython', 'json', 'numpy', 'sys']);
    expect(parseModulesReply(reply('', 'error'))).toBeNull();
  });

  it('asks the kernel silently, without history', async () => {
    const requestExecute = jest.fn(() => ({
      done: Promise.resolve(reply("'numpy sys'")),
      dispose: jest.fn()
    }));
    const kernel = { requestExecute } as unknown as Kernel.IKernelConnection;
    expect(await kernelModules(kernel)).toEqual(['numpy', 'sys']);
    const [content] = requestExecute.mock.calls[0] as unknown as [KernelMessage.IExecuteRequestMsg['content']];
    expect(content.silent).toBe(true);
    expect(content.store_history).toBe(false);
    expect(content.code).toBe('');
  });

  it('gives up on a kernel that does not answer', async () => {
    const dispose = jest.fn();
    const kernel = {
      requestExecute: () => ({ done: new Promise(() => undefined), dispose })
    } as unknown as Kernel.IKernelConnection;
    expect(await kernelModules(kernel, 20)).toBeNull();
    expect(dispose).toHaveBeenCalled();
  });
});

describe('stale modules from the distributions own files', () => {
  it('uses the import names the server read, not the guess from the name', () => {
    const changes = [
      { name: 'python-slugify', action: 'change' as const, old: '8.0', new: '8.1', source: 'pypi' },
      { name: 'tabulate', action: 'remove' as const, old: '0.9', new: null, source: 'pypi' }
    ];
    // Guessed from the names: python_slugify, which the kernel never imports.
    expect(staleModules(changes, ['slugify', 'os'])).toEqual([]);
    expect(
      staleModules(changes, ['slugify', 'tabulate', 'os'], { Python_Slugify: ['slugify'] })
    ).toEqual([
      { module: 'slugify', package: 'python-slugify', action: 'change' },
      { module: 'tabulate', package: 'tabulate', action: 'remove' }
    ]);
  });
});
