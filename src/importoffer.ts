import { ReactWidget } from '@jupyterlab/apputils';

import type { JupyterFrontEnd } from '@jupyterlab/application';

import type { INotebookTracker, Notebook } from '@jupyterlab/notebook';

import { NotebookActions } from '@jupyterlab/notebook';

import type { TranslationBundle } from '@jupyterlab/translation';

import type { PanelLayout } from '@lumino/widgets';

import * as React from 'react';

import { IProvidesAnswer, ImportOffer, OfferState } from './components/ImportOffer';

import type { UserPkgModel } from './model';

import { asError, requestAPI } from './request';

import type { IChangeRequest } from './tokens';

/**
 * A notebook's cell widget.
 */
type Cell = Notebook['widgets'][number];

/**
 * What the offer asks of the rest of the extension.
 */
export interface IImportOfferActions {
  /** The env of a kernelspec (`default` for a kernel of no env). */
  envForKernel(kernelName: string): string;
  /** Open the plan of installing `answer.package` into `answer.env` in the Packages panel. */
  install(answer: IProvidesAnswer): Promise<void>;
  /** Open the panel's search with `name`. */
  search(name: string): void;
}

/**
 * Asks the server which package provides an import name (`GET provides`).
 */
export type ProvidesFetch = (name: string, env: string) => Promise<IProvidesAnswer>;

const NO_MODULE = /No module named ['"]?([A-Za-z_][A-Za-z0-9_.]*)/;

/**
 * The top-level module a cell's output says is missing, or null.
 *
 * An error output of `ModuleNotFoundError` (or an `ImportError` whose text says
 * "No module named X"), or such a line on stderr (a script run by the cell).
 * ANSI colours of tracebacks are ignored.
 */
export function missingModule(output: Record<string, unknown>): string | null {
  let text = '';
  if (output.output_type === 'error') {
    const traceback = Array.isArray(output.traceback) ? output.traceback.join('\n') : '';
    text = `${String(output.ename ?? '')}: ${String(output.evalue ?? '')}\n${traceback}`;
    if (!/ModuleNotFoundError|ImportError/.test(String(output.ename ?? ''))) {
      return null;
    }
  } else if (output.output_type === 'stream' && output.name === 'stderr') {
    text = Array.isArray(output.text) ? output.text.join('') : String(output.text ?? '');
    if (!/ModuleNotFoundError|ImportError/.test(text)) {
      return null;
    }
  } else {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '');
  const match = NO_MODULE.exec(plain);
  return match ? match[1].split('.')[0] : null;
}

/**
 * The change that installs the offered package: from PyPI into an env with
 * conda channels says so (`--pypi` in the offered command line).
 */
export function installRequest(answer: IProvidesAnswer): IChangeRequest {
  const pypi = ` ${answer.install ?? ''} `.includes(' --pypi ');
  return pypi
    ? { install: [answer.package ?? ''], pypi: true }
    : { install: [answer.package ?? ''] };
}

/**
 * The offer's actions on the Packages panel: the plan opens there (the policy
 * applied, nothing installed before Apply), as does a search.
 */
export function panelOfferActions(
  app: JupyterFrontEnd,
  panelId: string,
  model: UserPkgModel
): IImportOfferActions {
  return {
    envForKernel: kernel => model.envForKernel(kernel),
    install: async answer => {
      app.shell.activateById(panelId);
      await model.select(answer.env);
      await model.planChange(installRequest(answer));
    },
    search: name => {
      app.shell.activateById(panelId);
      model.setTab('search');
      model.search.setQuery(name);
      void model.search.search();
    }
  };
}

/**
 * The default fetch: the REST API, through the extension's request layer.
 */
export const fetchProvides: ProvidesFetch = (name, env) =>
  requestAPI<IProvidesAnswer>(
    `provides?name=${encodeURIComponent(name)}&env=${encodeURIComponent(env)}`
  );

/**
 * The offer under one cell: a React widget holding its state.
 */
class OfferWidget extends ReactWidget {
  constructor(
    private _trans: TranslationBundle,
    private _actions: IImportOfferActions,
    public offer: OfferState
  ) {
    super();
    this.addClass('jp-userpkg-ImportOffer-host');
  }

  setOffer(offer: OfferState): void {
    this.offer = offer;
    this.update();
  }

  render(): JSX.Element {
    return React.createElement(ImportOffer, {
      offer: this.offer,
      trans: this._trans,
      onInstall: answer => void this._actions.install(answer),
      onSearch: name => this._actions.search(name)
    });
  }
}

/**
 * Watches every notebook's executed cells: when a cell's output says
 * "No module named X", an offer goes under that cell's output (with or without
 * `%userpkg` loaded in the kernel), and goes away when the cell runs again.
 * Nothing is added to the notebook's outputs or file.
 */
export class ImportOfferTracker {
  constructor(
    private _notebooks: INotebookTracker,
    private _trans: TranslationBundle,
    private _actions: IImportOfferActions,
    private _fetch: ProvidesFetch = fetchProvides
  ) {
    NotebookActions.executionScheduled.connect(this._onScheduled, this);
    NotebookActions.executed.connect(this._onExecuted, this);
  }

  dispose(): void {
    NotebookActions.executionScheduled.disconnect(this._onScheduled, this);
    NotebookActions.executed.disconnect(this._onExecuted, this);
    this._offers.forEach(widget => widget.dispose());
    this._offers.clear();
  }

  private _onScheduled(_: unknown, args: { notebook: Notebook; cell: Cell }): void {
    this._drop(args.cell);
  }

  private _onExecuted(_: unknown, args: { notebook: Notebook; cell: Cell }): void {
    const { notebook, cell } = args;
    if (cell.model.type !== 'code') {
      return;
    }
    const model = cell.model as unknown as { outputs?: { toJSON(): unknown } };
    const json = model.outputs?.toJSON();
    const outputs = (Array.isArray(json) ? json : []) as Record<string, unknown>[];
    const name = outputs.map(missingModule).find(found => found !== null) ?? null;
    if (!name) {
      return;
    }
    const panel = this._notebooks.find(p => p.content === notebook);
    const kernel = panel?.sessionContext.session?.kernel?.name ?? null;
    const env = kernel ? this._actions.envForKernel(kernel) : 'default';
    void this._offer(cell, name, env);
  }

  private async _offer(cell: Cell, name: string, env: string): Promise<void> {
    this._drop(cell);
    const widget = new OfferWidget(this._trans, this._actions, { state: 'loading', name });
    this._offers.set(cell, widget);
    (cell.layout as PanelLayout).addWidget(widget);
    cell.disposed.connect(this._onCellDisposed, this); // once: the same slot is not added twice
    let offer: OfferState;
    try {
      offer = { state: 'answered', answer: await this._fetch(name, env) };
    } catch (reason) {
      offer = { state: 'failed', name, message: asError(reason).message };
    }
    if (this._offers.get(cell) === widget) {
      widget.setOffer(offer);
    }
  }

  private _onCellDisposed(cell: Cell): void {
    this._drop(cell);
  }

  private _drop(cell: Cell): void {
    const widget = this._offers.get(cell);
    if (widget) {
      this._offers.delete(cell);
      widget.dispose();
    }
  }

  private _offers = new Map<Cell, OfferWidget>();
}
