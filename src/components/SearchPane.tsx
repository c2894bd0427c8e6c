import { TranslationBundle } from '@jupyterlab/translation';

import * as React from 'react';

import { verdictText } from '../policy';

import { ISearchHit, ISearchResult, SearchSource } from '../tokens';

import { Select, TextInput } from './controls';

/**
 * Properties of the search pane.
 */
export interface ISearchPaneProps {
  trans: TranslationBundle;
  query: string;
  source: SearchSource;
  /** Whether to offer the source toggle (a conda env). */
  showSource: boolean;
  result: ISearchResult | null;
  searching: boolean;
  selected: string | null;
  onQuery: (query: string) => void;
  onSource: (source: SearchSource) => void;
  onPick: (hit: ISearchHit) => void;
  children?: React.ReactNode;
}

/**
 * Search the package indexes as you type; a result picked shows its details.
 */
export function SearchPane(props: ISearchPaneProps): JSX.Element {
  const { trans, result } = props;
  const inputId = 'jp-userpkg-search';
  return (
    <div className="jp-userpkg-search-pane">
      <div className="jp-userpkg-toolbar">
        <label htmlFor={inputId} className="jp-mod-hidden-label">
          {trans.__('Search packages')}
        </label>
        <TextInput
          id={inputId}
          className="jp-userpkg-search jp-mod-styled"
          type="search"
          placeholder={trans.__('Search packages')}
          value={props.query}
          onChange={e => props.onQuery(e.currentTarget.value)}
        />
        {props.showSource && (
          <Select
            className="jp-userpkg-source-select"
            label={trans.__('Search in')}
            value={props.source}
            options={[
              { value: 'conda', label: trans.__('conda channels') },
              { value: 'pypi', label: trans.__('PyPI') }
            ]}
            onChange={value => props.onSource(value as SearchSource)}
          />
        )}
      </div>
      <div aria-live="polite" className="jp-userpkg-search-status">
        {props.searching
          ? trans.__('Searching…')
          : result && result.results.length === 0
            ? trans.__('No package matches "%1".', result.query)
            : ''}
      </div>
      {result && result.notes.length > 0 && (
        <ul className="jp-userpkg-notes">
          {result.notes.map(note => (
            <li key={note} className="jp-userpkg-note">
              {note}
            </li>
          ))}
        </ul>
      )}
      {props.children}
      <ul
        className="jp-userpkg-search-results"
        aria-label={trans.__('Search results')}
      >
        {(result?.results ?? []).map(hit => {
          const blocked = hit.blocked ? verdictText(trans, hit.blocked) : null;
          return (
            <li key={`${hit.source}:${hit.name}`}>
              <button
                type="button"
                className={`jp-userpkg-search-result${blocked ? ' jp-mod-blocked' : ''}`}
                data-package={hit.name}
                data-source={hit.source}
                data-blocked={blocked ? 'true' : undefined}
                aria-pressed={props.selected === hit.name}
                onClick={() => props.onPick(hit)}
              >
                <span className="jp-userpkg-search-name">{hit.name}</span>
                {hit.version && (
                  <span className="jp-userpkg-search-version">{hit.version}</span>
                )}
                <span className="jp-userpkg-search-where">
                  {hit.source === 'pypi' ? 'PyPI' : 'conda'}
                </span>
                {blocked && (
                  <span className="jp-userpkg-blocked-badge" title={blocked}>
                    {trans.__('blocked')}
                  </span>
                )}
                {hit.summary && (
                  <span className="jp-userpkg-search-summary">{hit.summary}</span>
                )}
                {blocked && (
                  <span className="jp-userpkg-search-blocked">{blocked}</span>
                )}
              </button>
            </li>
          );
        })}
      </ul>
    </div>
  );
}
