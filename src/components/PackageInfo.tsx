import { TranslationBundle } from '@jupyterlab/translation';

import { Button, closeIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { IPackageInfo } from '../tokens';

import { channelName, Select } from './controls';

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
  onClose: () => void;
}

/**
 * The requirement that installs `version` of a package, or its newest
 * allowed version when `version` is empty.
 */
export function installSpec(name: string, version: string): string {
  return version ? `${name}==${version}` : name;
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
  const options = [
    { value: '', label: trans.__('newest allowed') },
    ...info.versions.map(v => ({ value: v, label: v }))
  ];
  return (
    <section
      className="jp-userpkg-package-info"
      aria-label={trans.__('Package %1', info.name)}
      data-package={info.name}
    >
      <div className="jp-userpkg-header-row">
        <h3 className="jp-userpkg-section-title">{info.name}</h3>
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
            <a href={info.home_page} target="_blank" rel="noopener noreferrer">
              {info.home_page}
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
            <dd>{props.installed}</dd>
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
          onChange={setVersion}
        />
        <Button
          className="jp-userpkg-install-button jp-mod-accept"
          small
          disabled={props.busy}
          onClick={() => props.onInstall(installSpec(info.name, version))}
        >
          {trans.__('Install')}
        </Button>
      </div>
    </section>
  );
}
