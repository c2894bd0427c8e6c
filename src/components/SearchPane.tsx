import { TranslationBundle } from '@jupyterlab/translation';

import * as React from 'react';

import { normalize, verdictText } from '../policy';

import { IInstalledMark, rankHits } from '../ranking';

import { ISearchHit, ISearchResult, SearchSource } from '../tokens';

import { keepWords, Select, TextInput } from './controls';

/**
 * The id of the results' listbox.
 */
export const RESULTS_ID = 'jp-userpkg-search-results';

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
  /** Whether the search in flight takes long (the first one reads the index's names). */
  slow?: boolean;
  selected: string | null;
  /** What the user's envs hold, by normalised name: marked, ranked first. */
  installed?: Map<string, IInstalledMark>;
  onQuery: (query: string) => void;
  onSource: (source: SearchSource) => void;
  onPick: (hit: ISearchHit) => void;
  children?: React.ReactNode;
}

/**
 * Where a hit is installed, in words ("installed 9.2.0", "in analysis 1.0").
 */
export function installedText(
  trans: TranslationBundle,
  mark: IInstalledMark | undefined
): string | null {
  if (!mark) {
    return null;
  }
  if (mark.here) {
    return trans.__('installed %1', mark.here);
  }
  if (mark.elsewhere.length > 0) {
    const { env, version } = mark.elsewhere[0];
    return mark.elsewhere.length === 1
      ? trans.__('in %1 (%2)', env, version)
      : trans.__('in %1 and %2 more', env, mark.elsewhere.length - 1);
  }
  return null;
}

function statusText(props: ISearchPaneProps): string {
  const { trans, result } = props;
  if (props.searching) {
    return props.slow
      ? trans.__(
          'Searching… the first search reads the list of package names (a few seconds, once a day).'
        )
      : trans.__('Searching…');
  }
  if (!result) {
    return '';
  }
  if (result.results.length === 0) {
    return trans.__('No package matches "%1".', result.query);
  }
  return trans._n('%1 result', '%1 results', result.results.length);
}

/**
 * Search the package indexes as you type; a result picked shows its details.
 *
 * The results are a listbox: one Tab stop, the arrow keys move through it,
 * Enter (or a click) opens a result.
 */
export function SearchPane(props: ISearchPaneProps): JSX.Element {
  const { trans, result } = props;
  const inputId = 'jp-userpkg-search';
  const installed = props.installed ?? new Map<string, IInstalledMark>();
  const hits = React.useMemo(
    () => (result ? rankHits(result.results, result.query, installed) : []),
    [result, installed]
  );
  const where = props.source === 'conda' ? trans.__('conda channels') : trans.__('PyPI');
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
          placeholder={trans.__('Search %1', where)}
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
        {statusText(props)}
      </div>
      {!result && !props.searching && (
        <p className="jp-userpkg-empty">
          {trans.__(
            'Type a package name or part of one: %1 is searched; what your environments hold comes first.',
            where
          )}
        </p>
      )}
      <Suggestions
        trans={trans}
        names={result?.suggestions ?? []}
        onPick={props.onQuery}
      />
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
      <ResultList
        trans={trans}
        hits={hits}
        installed={installed}
        selected={props.selected}
        onPick={props.onPick}
      />
    </div>
  );
}

/**
 * "Did you mean pandas?": names close to a query that found no such name.
 */
function Suggestions(props: {
  trans: TranslationBundle;
  names: string[];
  onPick: (name: string) => void;
}): JSX.Element | null {
  if (props.names.length === 0) {
    return null;
  }
  return (
    <p className="jp-userpkg-suggestions">
      {props.trans.__('Did you mean')}{' '}
      {props.names.map((name, i) => (
        <React.Fragment key={name}>
          {i > 0 && ', '}
          <button
            type="button"
            className="jp-userpkg-suggestion"
            onClick={() => props.onPick(name)}
          >
            {name}
          </button>
        </React.Fragment>
      ))}
      ?
    </p>
  );
}

function ResultList(props: {
  trans: TranslationBundle;
  hits: ISearchHit[];
  installed: Map<string, IInstalledMark>;
  selected: string | null;
  onPick: (hit: ISearchHit) => void;
}): JSX.Element | null {
  const { trans, hits } = props;
  const [active, setActive] = React.useState(0);
  const list = React.useRef<HTMLUListElement>(null);
  React.useEffect(() => setActive(0), [hits]);
  const at = Math.min(active, Math.max(hits.length - 1, 0));
  const optionId = (i: number) => `jp-userpkg-result-${i}`;
  React.useEffect(() => {
    list.current
      ?.querySelector(`#${optionId(at)}`)
      ?.scrollIntoView?.({ block: 'nearest' });
  }, [at]);
  if (hits.length === 0) {
    return null;
  }
  const onKeyDown = (event: React.KeyboardEvent) => {
    const moves: Record<string, number> = {
      ArrowDown: at + 1,
      ArrowUp: at - 1,
      Home: 0,
      End: hits.length - 1
    };
    if (event.key in moves) {
      event.preventDefault();
      setActive(Math.max(0, Math.min(hits.length - 1, moves[event.key])));
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      props.onPick(hits[at]);
    }
  };
  return (
    <ul
      ref={list}
      id={RESULTS_ID}
      className="jp-userpkg-search-results"
      role="listbox"
      tabIndex={0}
      aria-label={trans.__('Search results')}
      aria-activedescendant={optionId(at)}
      onKeyDown={onKeyDown}
    >
      {hits.map((hit, i) => (
        <ResultItem
          key={`${hit.source}:${hit.name}`}
          trans={trans}
          hit={hit}
          id={optionId(i)}
          active={i === at}
          selected={props.selected === hit.name}
          mark={installedText(trans, props.installed.get(normalize(hit.name)))}
          onPick={() => {
            setActive(i);
            props.onPick(hit);
          }}
        />
      ))}
    </ul>
  );
}

/**
 * One result: its name, version, source, where it is installed, whether the
 * policy blocks it, its summary.
 */
function ResultItem(props: {
  trans: TranslationBundle;
  hit: ISearchHit;
  id: string;
  active: boolean;
  selected: boolean;
  mark: string | null;
  onPick: () => void;
}): JSX.Element {
  const { trans, hit, mark } = props;
  const blocked = hit.blocked ? verdictText(trans, hit.blocked) : null;
  return (
    <li
      id={props.id}
      role="option"
      aria-selected={props.selected}
      className={
        'jp-userpkg-search-result' +
        (blocked ? ' jp-mod-blocked' : '') +
        (props.active ? ' jp-mod-active' : '')
      }
      data-package={hit.name}
      data-source={hit.source}
      data-blocked={blocked ? 'true' : undefined}
      data-installed={mark ? 'true' : undefined}
      data-mirror={hit.in_mirror ? 'true' : undefined}
      onClick={props.onPick}
    >
      <span className="jp-userpkg-search-name" title={hit.name}>
        {hit.name}
      </span>
      {hit.version && (
        <span className="jp-userpkg-search-version">{hit.version}</span>
      )}
      <span
        className="jp-userpkg-search-where jp-userpkg-badge"
        title={
          hit.in_mirror
            ? trans.__("in the administrator's package mirror")
            : undefined
        }
      >
        {hit.source === 'pypi' ? 'PyPI' : 'conda'}
      </span>
      {mark && <span className="jp-userpkg-installed-mark">{mark}</span>}
      {blocked && (
        <span className="jp-userpkg-blocked-badge" title={blocked}>
          {trans.__('blocked')}
        </span>
      )}
      {hit.summary && (
        <span className="jp-userpkg-search-summary">{hit.summary}</span>
      )}
      {blocked && (
        <span className="jp-userpkg-search-blocked">{keepWords(blocked)}</span>
      )}
    </li>
  );
}
