import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { IProvidesAnswer, ImportOffer } from '../components/ImportOffer';

import { installRequest, missingModule } from '../importoffer';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const FOUND: IProvidesAnswer = {
  name: 'slugify',
  module: 'slugify',
  env: 'default',
  found: true,
  package: 'python-slugify',
  source: 'pypi',
  confidence: 'verified',
  evidence: {
    kind: 'record',
    text: 'the RECORD of python_slugify-8.0.4-py3-none-any.whl on PyPI installs slugify',
    where: ['https://pypi.org/simple'],
    version: '8.0.4'
  },
  blocked: null,
  install: 'install -n default python-slugify',
  search: null,
  notes: []
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

describe('missingModule', () => {
  it('reads the module from an error output, colours and all', () => {
    const output = {
      output_type: 'error',
      ename: 'ModuleNotFoundError',
      evalue: "No module named 'yaml'",
      traceback: ["\u001b[0;31mModuleNotFoundError\u001b[0m: No module named 'yaml'"]
    };
    expect(missingModule(output)).toBe('yaml');
    expect(
      missingModule({ ...output, evalue: "No module named 'slugify.slugify'" })
    ).toBe('slugify');
    expect(
      missingModule({
        output_type: 'stream',
        name: 'stderr',
        text: "ModuleNotFoundError: No module named 'tabulate'\n"
      })
    ).toBe('tabulate');
  });

  it('ignores other errors and outputs', () => {
    expect(
      missingModule({ output_type: 'error', ename: 'NameError', evalue: "name 'x'" })
    ).toBeNull();
    expect(
      missingModule({ output_type: 'stream', name: 'stdout', text: 'No module named x' })
    ).toBeNull();
    expect(
      missingModule({ output_type: 'error', ename: 'ImportError', evalue: 'cannot import name y' })
    ).toBeNull();
  });
});

describe('installRequest', () => {
  it('installs from PyPI into a conda env only when the offer says --pypi', () => {
    expect(installRequest(FOUND)).toEqual({ install: ['python-slugify'] });
    expect(
      installRequest({ ...FOUND, install: 'install -n sci --pypi python-slugify' })
    ).toEqual({ install: ['python-slugify'], pypi: true });
  });
});

describe('ImportOffer', () => {
  it('names the package and the evidence, and the button opens the plan', () => {
    const onInstall = jest.fn();
    act(() =>
      root.render(
        <ImportOffer
          offer={{ state: 'answered', answer: FOUND }}
          trans={trans}
          onInstall={onInstall}
          onSearch={jest.fn()}
        />
      )
    );
    const offer = host.querySelector('.jp-userpkg-ImportOffer')!;
    expect(offer.getAttribute('data-package')).toBe('python-slugify');
    expect(offer.textContent).toContain('slugify is provided by python-slugify');
    expect(offer.textContent).toContain("the package's files (RECORD)");
    const button = host.querySelector<HTMLButtonElement>('.jp-userpkg-ImportOffer-install')!;
    expect(button.textContent).toBe('Install python-slugify into default');
    act(() => button.click());
    expect(onInstall).toHaveBeenCalledWith(FOUND);
  });

  it('names a refused package with the refusal and offers no install', () => {
    const blocked = { rule: 'python-slugify', reason: 'not reviewed', advisory: '' };
    act(() =>
      root.render(
        <ImportOffer
          offer={{ state: 'answered', answer: { ...FOUND, blocked } }}
          trans={trans}
          onInstall={jest.fn()}
          onSearch={jest.fn()}
        />
      )
    );
    expect(host.querySelector('.jp-userpkg-ImportOffer-install')).toBeNull();
    expect(host.querySelector('.jp-userpkg-ImportOffer-refused')!.textContent).toBe(
      "The administrator's policy refuses python-slugify: not reviewed"
    );
  });

  it('says when nothing is known and offers a search', () => {
    const onSearch = jest.fn();
    const none: IProvidesAnswer = {
      ...FOUND,
      found: false,
      package: null,
      source: null,
      confidence: null,
      evidence: null,
      install: null,
      search: 'slugify'
    };
    act(() =>
      root.render(
        <ImportOffer
          offer={{ state: 'answered', answer: none }}
          trans={trans}
          onInstall={jest.fn()}
          onSearch={onSearch}
        />
      )
    );
    expect(host.textContent).toContain('No package known to provide slugify.');
    act(() => host.querySelector<HTMLButtonElement>('.jp-userpkg-ImportOffer-search')!.click());
    expect(onSearch).toHaveBeenCalledWith('slugify');
  });
});
