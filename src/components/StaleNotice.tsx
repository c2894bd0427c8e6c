import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import type { IStaleModule } from '../stale';

import { keepWords } from './controls';

/**
 * Properties of the stale modules notice.
 */
export interface IStaleNoticeProps {
  trans: TranslationBundle;
  env: string;
  modules: IStaleModule[];
  onRestart: () => void;
  onDismiss: () => void;
}

/**
 * Modules the notebook's kernel had imported whose packages the change
 * replaced: they stay at their old versions until the kernel restarts.
 */
export function StaleNotice(props: IStaleNoticeProps): JSX.Element {
  const { trans, modules } = props;
  return (
    <div className="jp-userpkg-stale" role="status" aria-live="polite">
      <p>
        {keepWords(
          trans.__(
            'This notebook\'s kernel had already imported modules whose packages changed in %1; it keeps using the old versions until it restarts:',
            props.env
          )
        )}
      </p>
      <ul className="jp-userpkg-stale-modules">
        {modules.map(m => (
          <li key={m.module} data-module={m.module} data-package={m.package}>
            <code>{m.module}</code>
            {m.module !== m.package && ` (${m.package})`}
          </li>
        ))}
      </ul>
      <div className="jp-userpkg-form-buttons">
        <Button
          className="jp-userpkg-restart-kernel jp-mod-warn"
          small
          onClick={props.onRestart}
        >
          {trans.__('Restart kernel')}
        </Button>
        <Button
          className="jp-userpkg-stale-dismiss"
          small
          minimal
          onClick={props.onDismiss}
        >
          {trans.__('Dismiss')}
        </Button>
      </div>
    </div>
  );
}
