import { TranslationBundle } from '@jupyterlab/translation';

import type { Message } from '@lumino/messaging';

import { ReactWidget } from '@jupyterlab/ui-components';

import * as React from 'react';

import { requestAPI } from './request';

import { IHealthReply, IHealthState } from './tokens';

/**
 * Left-sidebar panel of jupyter-userpkg.
 *
 * For now it only checks that the server extension answers and shows its
 * version, or the error.
 */
export class UserPkgPanel extends ReactWidget {
  constructor(trans: TranslationBundle) {
    super();
    this._trans = trans;
    this.id = 'jp-userpkg-panel';
    this.addClass('jp-userpkg-panel');
    this.title.caption = trans.__('Packages');
  }

  /**
   * Current state of the health check.
   */
  get state(): IHealthState {
    return this._state;
  }

  /**
   * Query `GET <baseUrl>/userpkg/api/health` and re-render.
   */
  async refresh(): Promise<void> {
    this._setState({ loading: true });
    try {
      const reply = await requestAPI<IHealthReply>('health');
      this._setState({ loading: false, version: String(reply.version) });
    } catch (reason) {
      const message =
        reason instanceof Error ? reason.message : String(reason);
      console.error(`jupyter-userpkg: health check failed.\n${message}`);
      this._setState({ loading: false, error: message });
    }
  }

  protected onAfterShow(msg: Message): void {
    super.onAfterShow(msg);
    if (!this._state.loading) {
      void this.refresh();
    }
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const { loading, version, error } = this._state;
    let body: JSX.Element;
    if (loading) {
      body = (
        <p className="jp-userpkg-status">{trans.__('Checking server…')}</p>
      );
    } else if (error !== undefined) {
      body = (
        <p className="jp-userpkg-status jp-userpkg-error">
          {trans.__('Server extension unavailable: %1', error)}
        </p>
      );
    } else {
      body = (
        <p className="jp-userpkg-status jp-userpkg-version">
          {trans.__('jupyter_userpkg server version %1', version ?? '')}
        </p>
      );
    }
    return (
      <div className="jp-userpkg-content">
        <h2 className="jp-userpkg-header">{trans.__('Packages')}</h2>
        {body}
      </div>
    );
  }

  private _setState(state: IHealthState): void {
    this._state = state;
    this.update();
  }

  private _state: IHealthState = { loading: false };
  private _trans: TranslationBundle;
}
