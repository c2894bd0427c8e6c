import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { warningIcon } from '../icons';

import {
  IListOptions,
  IPackageListView,
  packageListView,
  removable
} from '../packagelist';

import { normalize, verdictText } from '../policy';

import { IAdvisory, IPackage } from '../tokens';

import { channelName, TextInput } from './controls';

/**
 * Properties of the packages list.
 */
export interface IPackageListProps {
  trans: TranslationBundle;
  packages: IPackage[];
  /**
   * Whether the env's kind extends the base (`base`): its own packages are
   * what it adds to the base.
   */
  extendsBase: boolean;
  busy: boolean;
  /** The env's advisories: their packages are marked. */
  advisories?: IAdvisory[];
  /**
   * What an action taken on a row brought (its plan, progress or error),
   * shown under that row; `name` null: above the list.
   */
  activity?: { name: string | null; node: React.ReactNode } | null;
  onRemove: (name: string) => void;
  onUpdate: (name: string) => void;
  onUpdateAll: () => void;
  /** The env's packages that need a package (a dependency's row says them). */
  dependents?: (name: string) => Promise<string[]>;
}

/**
 * Where a package comes from, in words: its channel, its index, or the base.
 */
export function sourceLabel(pkg: IPackage): string {
  if (pkg.source === 'base') {
    return 'base';
  }
  if (pkg.source === 'conda') {
    return pkg.channel ? channelName(pkg.channel) : 'conda';
  }
  return pkg.index ? pkg.index.replace(/^[a-z]+:\/\//, '') : 'PyPI';
}

/**
 * The installed packages as rows: what the user asked for first, with
 * toggles for the dependencies and the base, filtered as you type.
 *
 * Rows are plain: a thousand of them render at once; the filter runs on a
 * deferred value, so typing stays smooth while the list catches up.
 */
export function PackageList(props: IPackageListProps): JSX.Element {
  const { trans, packages, busy, extendsBase } = props;
  const [filter, setFilter] = React.useState('');
  const [options, setOptions] = React.useState<IListOptions>({
    dependencies: false,
    base: false
  });
  const deferred = React.useDeferredValue(filter);
  const view = React.useMemo(
    () => packageListView(packages, extendsBase, options, deferred),
    [packages, extendsBase, options, deferred]
  );
  const filterId = 'jp-userpkg-filter';
  return (
    <div className="jp-userpkg-packages-pane">
      <div className="jp-userpkg-toolbar">
        <label htmlFor={filterId} className="jp-mod-hidden-label">
          {trans.__('Filter packages')}
        </label>
        <TextInput
          id={filterId}
          className="jp-userpkg-filter jp-mod-styled"
          type="search"
          placeholder={trans.__('Filter packages')}
          value={filter}
          onChange={e => setFilter(e.currentTarget.value)}
        />
        <Button
          className="jp-userpkg-update-all"
          small
          disabled={busy}
          title={trans.__('Update every package you asked for')}
          onClick={props.onUpdateAll}
        >
          {trans.__('Update all')}
        </Button>
      </div>
      <ListOptions
        trans={trans}
        view={view}
        options={options}
        extendsBase={extendsBase}
        onChange={setOptions}
      />
      <PackageGroups {...props} view={view} />
      {view.shown === 0 && (
        <p className="jp-userpkg-empty">
          {view.filtered
            ? trans.__('No installed package matches "%1".', deferred.trim())
            : trans.__('Nothing asked for yet: find packages in Search.')}
        </p>
      )}
    </div>
  );
}

/**
 * The rows of each group shown; what an action brought goes under its row,
 * or above the rows when that row is not shown.
 */
function PackageGroups(
  props: IPackageListProps & { view: IPackageListView }
): JSX.Element {
  const { trans, extendsBase, view } = props;
  const [open, setOpen] = React.useState<string | null>(null);
  const toggle = React.useCallback(
    (name: string) => setOpen(now => (now === name ? null : name)),
    []
  );
  const advised = React.useMemo(() => {
    const found = new Map<string, IAdvisory>();
    for (const advisory of props.advisories ?? []) {
      found.set(`${advisory.source}:${normalize(advisory.package)}`, advisory);
    }
    return found;
  }, [props.advisories]);
  const { requested, dependencies, base } = view.groups;
  const activity = props.activity ?? null;
  const shown = new Set([...requested, ...dependencies, ...base].map(p => p.name));
  const orphan =
    activity !== null && (activity.name === null || !shown.has(activity.name));
  const rows = (group: IPackage[]) =>
    group.map(pkg => (
      <PackageRow
        key={`${pkg.source}:${pkg.name}`}
        pkg={pkg}
        extendsBase={extendsBase}
        advisory={advised.get(`${pkg.source}:${normalize(pkg.name)}`)}
        trans={trans}
        busy={props.busy}
        open={open === pkg.name}
        onToggle={toggle}
        onRemove={props.onRemove}
        onUpdate={props.onUpdate}
        dependents={props.dependents}
      >
        {activity && activity.name === pkg.name ? activity.node : null}
      </PackageRow>
    ));
  return (
    <>
      {orphan && activity.node}
      <PackageGroup label={trans.__('Asked for')} hideTitle>
        {rows(requested)}
      </PackageGroup>
      {dependencies.length > 0 && (
        <PackageGroup label={trans.__('Dependencies')}>
          {rows(dependencies)}
        </PackageGroup>
      )}
      {base.length > 0 && (
        <PackageGroup label={trans.__('Base environment')}>
          {rows(base)}
        </PackageGroup>
      )}
    </>
  );
}

function PackageGroup(props: {
  label: string;
  hideTitle?: boolean;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <section className="jp-userpkg-package-group" aria-label={props.label}>
      {!props.hideTitle && (
        <h4 className="jp-userpkg-group-title">{props.label}</h4>
      )}
      <ul className="jp-userpkg-packages">{props.children}</ul>
    </section>
  );
}

/**
 * The counts of each group, and the toggles that show dependencies and the
 * base.
 */
function ListOptions(props: {
  trans: TranslationBundle;
  view: IPackageListView;
  options: IListOptions;
  extendsBase: boolean;
  onChange: (options: IListOptions) => void;
}): JSX.Element {
  const { trans, view, options } = props;
  const { counts } = view;
  return (
    <div className="jp-userpkg-list-options">
      <p className="jp-userpkg-count" aria-live="polite">
        {view.filtered
          ? trans.__('%1 of %2 packages', view.shown, counts.total)
          : props.extendsBase
            ? trans._n(
                '%1 package added to the base',
                '%1 packages added to the base',
                counts.requested
              )
            : trans._n('%1 asked for', '%1 asked for', counts.requested)}
      </p>
      {counts.dependencies > 0 && (
        <label className="jp-userpkg-toggle">
          <input
            type="checkbox"
            className="jp-userpkg-show-dependencies"
            checked={options.dependencies}
            disabled={view.filtered}
            onChange={e =>
              props.onChange({ ...options, dependencies: e.currentTarget.checked })
            }
          />
          {trans.__('Dependencies (%1)', counts.dependencies)}
        </label>
      )}
      {counts.base > 0 && (
        <label className="jp-userpkg-toggle">
          <input
            type="checkbox"
            className="jp-userpkg-show-base"
            checked={options.base}
            disabled={view.filtered}
            onChange={e =>
              props.onChange({ ...options, base: e.currentTarget.checked })
            }
          />
          {trans.__('Base (%1)', counts.base)}
        </label>
      )}
    </div>
  );
}

/**
 * Why a package is there, in words.
 */
export function packageRole(
  trans: TranslationBundle,
  pkg: IPackage,
  extendsBase: boolean
): string {
  if (pkg.source === 'base') {
    return trans.__(
      'From the base environment: the administrators manage it. Installing it here puts your own version over it.'
    );
  }
  if (pkg.requested) {
    return trans.__('You asked for it.');
  }
  if (extendsBase) {
    return trans.__(
      'Added to the base for a package you asked for; it goes with that package.'
    );
  }
  return trans.__(
    'A dependency of a package you asked for; it goes when nothing needs it any more.'
  );
}

const PackageRow = React.memo(function PackageRow(props: {
  pkg: IPackage;
  extendsBase: boolean;
  advisory?: IAdvisory;
  trans: TranslationBundle;
  busy: boolean;
  open: boolean;
  onToggle: (name: string) => void;
  onRemove: (name: string) => void;
  onUpdate: (name: string) => void;
  dependents?: (name: string) => Promise<string[]>;
  children?: React.ReactNode;
}): JSX.Element {
  const { pkg, trans, busy, open } = props;
  const actionsId = `jp-userpkg-actions-${pkg.source}-${pkg.name}`;
  const source = sourceLabel(pkg);
  return (
    <li
      className="jp-userpkg-package-row"
      data-package={pkg.name}
      data-source={pkg.source}
      data-requested={pkg.requested ? 'true' : 'false'}
      data-blocked={props.advisory ? 'true' : undefined}
    >
      <div className="jp-userpkg-package-line">
        <span className="jp-userpkg-package-name" title={pkg.name}>
          {pkg.name}
        </span>
        <span className="jp-userpkg-package-version" title={pkg.version}>
          {pkg.version}
        </span>
        {props.advisory && (
          <span
            className="jp-userpkg-package-blocked"
            role="img"
            title={verdictText(trans, props.advisory)}
            aria-label={verdictText(trans, props.advisory)}
          >
            <warningIcon.react tag="span" />
          </span>
        )}
        <span
          className="jp-userpkg-package-source jp-userpkg-badge"
          title={pkg.channel ?? pkg.index ?? source}
        >
          {source}
        </span>
        <button
          type="button"
          className="jp-userpkg-package-menu jp-Button jp-mod-minimal jp-mod-small"
          aria-expanded={open}
          aria-controls={actionsId}
          aria-label={trans.__('Actions for %1', pkg.name)}
          title={trans.__('Actions for %1', pkg.name)}
          onClick={() => props.onToggle(pkg.name)}
        >
          {'\u22EF'}
        </button>
      </div>
      {open && (
        <RowActions
          id={actionsId}
          pkg={pkg}
          extendsBase={props.extendsBase}
          trans={trans}
          busy={busy}
          onRemove={props.onRemove}
          onUpdate={props.onUpdate}
          dependents={props.dependents}
        />
      )}
      {props.children}
    </li>
  );
}, sameRow);

/**
 * Whether a row would render the same: its callbacks do the same whatever
 * their identity (the panel makes new ones on every change of its model),
 * so that a job's events do not render a thousand rows again.
 */
function sameRow(
  a: Record<string, unknown>,
  b: Record<string, unknown>
): boolean {
  return Object.keys(a).every(
    key => typeof a[key] === 'function' || a[key] === b[key]
  );
}

/**
 * A row's actions, opened from its menu button: why the package is there,
 * Update, and Remove for what the user asked for.
 */
function RowActions(props: {
  id: string;
  pkg: IPackage;
  extendsBase: boolean;
  trans: TranslationBundle;
  busy: boolean;
  onRemove: (name: string) => void;
  onUpdate: (name: string) => void;
  dependents?: (name: string) => Promise<string[]>;
}): JSX.Element {
  const { pkg, trans, busy } = props;
  const needs = useDependents(pkg, props.dependents);
  return (
    <div className="jp-userpkg-package-actions" id={props.id}>
      <p className="jp-userpkg-package-role">
        {packageRole(trans, pkg, props.extendsBase)}
      </p>
      {needs !== null && needs.length > 0 && (
        <p className="jp-userpkg-package-needed-by">
          {trans.__('Needed by: ')}
          {needs.map((name, i) => (
            <React.Fragment key={name}>
              {i > 0 && ', '}
              <span className="jp-userpkg-word">{name}</span>
            </React.Fragment>
          ))}
        </p>
      )}
      {pkg.source !== 'base' && (
        <div className="jp-userpkg-toolbar">
          <Button
            className="jp-userpkg-update-button"
            small
            disabled={busy}
            aria-label={trans.__('Update %1', pkg.name)}
            onClick={() => props.onUpdate(pkg.name)}
          >
            {trans.__('Update')}
          </Button>
          {removable(pkg) && (
            <Button
              className="jp-userpkg-remove-button"
              small
              disabled={busy}
              aria-label={trans.__('Remove %1', pkg.name)}
              onClick={() => props.onRemove(pkg.name)}
            >
              {trans.__('Remove')}
            </Button>
          )}
        </div>
      )}
    </div>
  );
}

/**
 * What needs a dependency, read when its row opens; null until known (and
 * for what the user asked for, or the base).
 */
function useDependents(
  pkg: IPackage,
  dependents?: (name: string) => Promise<string[]>
): string[] | null {
  const [needs, setNeeds] = React.useState<string[] | null>(null);
  const wanted = !pkg.requested && pkg.source !== 'base' && !!dependents;
  React.useEffect(() => {
    if (!wanted || !dependents) {
      return;
    }
    let current = true;
    dependents(pkg.name)
      .then(names => current && setNeeds(names))
      .catch(() => current && setNeeds(null));
    return () => {
      current = false;
    };
  }, [pkg.name, wanted]);
  return needs;
}
