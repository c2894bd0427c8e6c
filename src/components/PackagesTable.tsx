import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { warningIcon } from '../icons';

import { normalize, verdictText } from '../policy';

import { IAdvisory, IPackage } from '../tokens';

import { channelName, TextInput } from './controls';

/**
 * Properties of the packages table.
 */
export interface IPackagesTableProps {
  trans: TranslationBundle;
  packages: IPackage[];
  busy: boolean;
  /** The env's advisories: their packages are marked. */
  advisories?: IAdvisory[];
  onRemove: (name: string) => void;
  onUpdate: (name: string) => void;
  onUpdateAll: () => void;
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
 * The packages whose name contains `filter` (case and `-_.` ignored).
 */
export function filterPackages(
  packages: IPackage[],
  filter: string
): IPackage[] {
  const wanted = normalise(filter.trim());
  if (!wanted) {
    return packages;
  }
  return packages.filter(pkg => normalise(pkg.name).includes(wanted));
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The installed packages, filtered as you type.
 *
 * Rows are plain: a thousand of them render at once; the filter runs on a
 * deferred value, so typing stays smooth while the table catches up.
 */
export function PackagesTable(props: IPackagesTableProps): JSX.Element {
  const { trans, packages, busy } = props;
  const [filter, setFilter] = React.useState('');
  const deferred = React.useDeferredValue(filter);
  const shown = React.useMemo(
    () => filterPackages(packages, deferred),
    [packages, deferred]
  );
  const advised = React.useMemo(() => {
    const found = new Map<string, IAdvisory>();
    for (const advisory of props.advisories ?? []) {
      found.set(`${advisory.source}:${normalize(advisory.package)}`, advisory);
    }
    return found;
  }, [props.advisories]);
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
      <p className="jp-userpkg-count" aria-live="polite">
        {shown.length === packages.length
          ? trans._n('%1 package', '%1 packages', packages.length)
          : trans.__('%1 of %2 packages', shown.length, packages.length)}
      </p>
      <table className="jp-userpkg-packages">
        <thead>
          <tr>
            <th scope="col">{trans.__('Name')}</th>
            <th scope="col">{trans.__('Version')}</th>
            <th scope="col">{trans.__('Source')}</th>
            <th scope="col">{trans.__('Requested')}</th>
            <th scope="col">{trans.__('Origin')}</th>
            <th scope="col">
              <span className="jp-mod-hidden-label">{trans.__('Actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {shown.map(pkg => (
            <PackageRow
              key={`${pkg.source}:${pkg.name}`}
              pkg={pkg}
              advisory={advised.get(`${pkg.source}:${normalize(pkg.name)}`)}
              trans={trans}
              busy={busy}
              onRemove={props.onRemove}
              onUpdate={props.onUpdate}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const PackageRow = React.memo(function PackageRow(props: {
  pkg: IPackage;
  advisory?: IAdvisory;
  trans: TranslationBundle;
  busy: boolean;
  onRemove: (name: string) => void;
  onUpdate: (name: string) => void;
}): JSX.Element {
  const { pkg, trans, busy } = props;
  const base = pkg.source === 'base';
  return (
    <tr
      className="jp-userpkg-package-row"
      data-package={pkg.name}
      data-source={pkg.source}
      data-blocked={props.advisory ? 'true' : undefined}
    >
      <td className="jp-userpkg-package-name">{pkg.name}</td>
      <td className="jp-userpkg-package-version">
        {pkg.version}
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
      </td>
      <td
        className="jp-userpkg-package-source"
        title={pkg.channel ?? pkg.index ?? undefined}
      >
        {sourceLabel(pkg)}
      </td>
      <td className="jp-userpkg-package-requested">
        {pkg.requested ? trans.__('yes') : trans.__('dependency')}
      </td>
      <td className="jp-userpkg-package-origin">
        {base ? trans.__('base') : trans.__('own')}
      </td>
      <td className="jp-userpkg-package-actions">
        {!base && (
          <>
            <Button
              className="jp-userpkg-update-button"
              minimal
              small
              disabled={busy}
              aria-label={trans.__('Update %1', pkg.name)}
              title={trans.__('Update %1', pkg.name)}
              onClick={() => props.onUpdate(pkg.name)}
            >
              {trans.__('Update')}
            </Button>
            <Button
              className="jp-userpkg-remove-button"
              minimal
              small
              disabled={busy}
              aria-label={trans.__('Remove %1', pkg.name)}
              title={trans.__('Remove %1', pkg.name)}
              onClick={() => props.onRemove(pkg.name)}
            >
              {trans.__('Remove')}
            </Button>
          </>
        )}
      </td>
    </tr>
  );
});
