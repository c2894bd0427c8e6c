import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { SearchPane } from '../components/SearchPane';

import { ISearchResult } from '../tokens';

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

describe('search hits the mirror holds', () => {
  it('are marked as in the mirror, the others not', () => {
    const result: ISearchResult = {
      query: 'mirr',
      results: ['mirrok', 'mirrother'].map(name => ({
        name,
        source: 'pypi',
        index: 'x',
        version: '1.0',
        summary: null,
        match: 'prefix',
        in_mirror: name === 'mirrok' ? true : null
      })),
      notes: [],
      offline: false,
      suggestions: []
    };
    act(() =>
      root.render(
        <SearchPane
          trans={trans}
          query="mirr"
          source="pypi"
          showSource={false}
          result={result}
          searching={false}
          selected={null}
          onQuery={jest.fn()}
          onSource={jest.fn()}
          onPick={jest.fn()}
        />
      )
    );
    const held = host.querySelector('.jp-userpkg-search-result[data-package="mirrok"]');
    expect(held?.getAttribute('data-mirror')).toBe('true');
    expect(held?.querySelector('.jp-userpkg-search-where')?.getAttribute('title')).toBe(
      "in the administrator's package mirror"
    );
    const other = host.querySelector('.jp-userpkg-search-result[data-package="mirrother"]');
    expect(other?.getAttribute('data-mirror')).toBeNull();
    expect(other?.querySelector('.jp-userpkg-search-where')?.getAttribute('title')).toBeNull();
  });
});
