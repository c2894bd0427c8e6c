import { TranslationBundle } from '@jupyterlab/translation';

import { Button, closeIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { allowedVersions, verdictText } from '../policy';

import { IPackageInfo, IVerdict } from '../tokens';

import { channelName, keepWords, Select, useTakeFocus } from './controls';

/**
 * Properties of the package details.
 */
export interface IPackageInfoProps {
  trans: TranslationBundle;
  info: IPackageInfo;
  /** The version installed in the selected env, if any. */
  installed: string | null;
  busy: boolean;
  onInstall: (spec: string) => void;
  /** Update the installed package to its newest allowed version (else: install it by name). */
  onUpdate?: (name: string) => void;
  onClose: () => void;
  /** What installing brought (plan, progress, error), under the details. */
  children?: React.ReactNode;
}

/**
 * The install button's words: "Install", "Installed 0.10.0" (nothing to
 * do), "Update to 0.11.0", "Change to 0.9.0"; and whether it does anything.
 */
export function installLabel(
  trans: TranslationBundle,
  installed: string | null,
  picked: string,
  latest: string | null
): { label: string; noop: boolean } {
  if (installed === null) {
    return { label: trans.__('Install'), noop: false };
  }
  const target = picked || latest;
  if (!target || target === installed) {
    return { label: trans.__('Installed %1', installed), noop: true };
  }
  if (!picked) {
    return { label: trans.__('Update to %1', target), noop: false };
  }
  return { label: trans.__('Change to %1', target), noop: false };
}

/**
 * The requirement that installs `version` of a package, or its newest
 * allowed version when `version` is empty.
 */
export function installSpec(name: string, version: string): string {
  return version ? `${name}==${version}` : name;
}

/**
 * The blocked versions of a package, those of one rule together, newest
 * first as the versions come.
 */
export function groupByRule(
  blocked: Record<string, IVerdict>
): Array<{ versions: string[]; verdict: IVerdict }> {
  const groups = new Map<string, { versions: string[]; verdict: IVerdict }>();
  for (const [version, verdict] of Object.entries(blocked)) {
    const key = `${verdict.rule}\n${verdict.reason}\n${verdict.advisory}`;
    const group = groups.get(key) ?? { versions: [], verdict };
    group.versions.push(version);
    groups.set(key, group);
  }
  return [...groups.values()];
}

/**
 * A package's summary, licence, home page and versions, with a version to
 * pick and install.
 */
export function PackageInfo(props: IPackageInfoProps): JSX.Element {
  const { trans, info } = props;
  const [version, setVersion] = React.useState('');
  React.useEffect(() => setVersion(''), [info.name, info.source]);
  const where =
    info.source === 'conda'
      ? info.channel
        ? channelName(info.channel)
        : 'conda'
      : 'PyPI';
  const blocked = info.blocked ? verdictText(trans, info.blocked) : null;
  const blockedGroups = groupByRule(info.blocked_versions ?? {});
  const installedVerdict =
    props.installed !== null ? info.blocked_versions?.[props.installed] : undefined;
  const { ref, onKeyDown } = useTakeFocus<HTMLElement>(props.onClose);
  const newest = allowedVersions(info)[0] ?? info.latest;
  const action = installLabel(trans, props.installed, version, newest);
  const options = [
    { value: '', label: trans.__('newest allowed') },
    ...allowedVersions(info).map(v => ({ value: v, label: v }))
  ];
  return (
    <section
      ref={ref}
      tabIndex={-1}
      onKeyDown={onKeyDown}
      className="jp-userpkg-package-info"
      aria-label={trans.__('Package %1', info.name)}
      data-package={info.name}
      data-blocked={blocked ? 'true' : undefined}
    >
      <div className="jp-userpkg-header-row">
        <h3 className="jp-userpkg-section-title">
          {info.name}
          {blocked && (
            <>
              {' '}
              <span className="jp-userpkg-blocked-badge" title={blocked}>
                {trans.__('blocked')}
              </span>
            </>
          )}
        </h3>
        <Button
          minimal
          small
          className="jp-userpkg-info-close"
          aria-label={trans.__('Close the details')}
          title={trans.__('Close the details')}
          onClick={props.onClose}
        >
          <closeIcon.react tag="span" />
        </Button>
      </div>
      {info.summary && <p className="jp-userpkg-info-summary">{info.summary}</p>}
      {blocked && (
        <p className="jp-userpkg-blocked-notice" role="note">
          {keepWords(trans.__('%1 is %2.', info.name, blocked))}
        </p>
      )}
      <dl className="jp-userpkg-info-fields">
        <dt>{trans.__('From')}</dt>
        <dd>{where}</dd>
        <dt>{trans.__('Latest')}</dt>
        <dd>{info.latest ?? trans.__('unknown')}</dd>
        <dt>{trans.__('Licence')}</dt>
        <dd className="jp-userpkg-info-license">
          {info.license ?? trans.__('not stated')}
        </dd>
        <dt>{trans.__('Home page')}</dt>
        <dd>
          {info.home_page ? (
            <a
              href={info.home_page}
              target="_blank"
              rel="noopener noreferrer"
              title={info.home_page}
            >
              {info.home_page.replace(/^https?:\/\//, '')}
            </a>
          ) : (
            trans.__('none')
          )}
        </dd>
        {info.requires_python && (
          <>
            <dt>{trans.__('Requires Python')}</dt>
            <dd>{info.requires_python}</dd>
          </>
        )}
        {props.installed && (
          <>
            <dt>{trans.__('Installed')}</dt>
            <dd className="jp-userpkg-info-installed">
              {props.installed}
              {(installedVerdict || info.blocked) && (
                <>
                  {' '}
                  <span
                    className="jp-userpkg-blocked-badge"
                    title={verdictText(trans, installedVerdict ?? info.blocked!)}
                  >
                    {trans.__('blocked')}
                  </span>
                </>
              )}
            </dd>
          </>
        )}
        {blockedGroups.length > 0 && (
          <>
            <dt>{trans.__('Blocked versions')}</dt>
            <dd>
              <ul className="jp-userpkg-blocked-versions">
                {blockedGroups.map(({ versions, verdict }) => (
                  <li
                    key={versions.join(' ')}
                    className="jp-userpkg-blocked-version"
                    data-versions={versions.join(' ')}
                    title={verdictText(trans, verdict)}
                  >
                    <span className="jp-userpkg-blocked-version-number">
                      {versions.join(', ')}
                    </span>
                    {verdict.reason && `: ${verdict.reason}`}
                    {verdict.advisory && ` (${verdict.advisory})`}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
      </dl>
      {info.notes.map(note => (
        <p key={note} className="jp-userpkg-note">
          {note}
        </p>
      ))}
      <div className="jp-userpkg-toolbar">
        <label htmlFor="jp-userpkg-version-select">{trans.__('Version')}</label>
        <Select
          id="jp-userpkg-version-select"
          className="jp-userpkg-version-select"
          value={version}
          options={options}
          disabled={blocked !== null}
          onChange={setVersion}
        />
        <Button
          className="jp-userpkg-install-button jp-mod-accept"
          small
          disabled={props.busy || blocked !== null || action.noop}
          title={blocked ?? undefined}
          onClick={() =>
            !version && props.installed !== null && props.onUpdate
              ? props.onUpdate(info.name)
              : props.onInstall(installSpec(info.name, version))
          }
        >
          {action.label}
        </Button>
      </div>
      {props.children}
    </section>
  );
}
