import { ReactWidget, SessionContextDialogs } from '@jupyterlab/apputils';

import type { JupyterFrontEnd } from '@jupyterlab/application';

import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import type { KernelSpec } from '@jupyterlab/services';

import type { TranslationBundle } from '@jupyterlab/translation';

import { Message, MessageLoop } from '@lumino/messaging';

import { Widget } from '@lumino/widgets';

import * as React from 'react';

import { BannerState, EnvBanner } from './components/EnvBanner';

import type { UserPkgModel } from './model';

import {
  BannerReason,
  IEnvSummary,
  INotebookEnv,
  METADATA_KEY,
  bannerReason,
  freeName,
  metadataDiffers,
  notebooksOnEnv,
  readNotebookEnv,
  summarize,
  uploadBody
} from './notebookenv';

import { asError, requestAPI } from './request';

import { ENV_EVENT_SCHEMA, IPlan, KERNEL_PREFIX } from './tokens';

/**
 * `GET envs/{env}/export?format=notebook`: the env as a notebook records it.
 */
export function exportNotebookEnv(env: string): Promise<unknown> {
  return requestAPI<unknown>(
    `envs/${encodeURIComponent(env)}/export?format=notebook`,
    {}
  );
}

/**
 * Writes `metadata.userpkg` into every open notebook whose kernel runs in an
 * env that changed (`envChanged`), which marks it dirty: the next save stores
 * it.  Changes from the panel and from `%userpkg` both come here.
 */
export class NotebookEnvRecorder {
  constructor(notebooks: INotebookTracker, model: UserPkgModel) {
    this._notebooks = notebooks;
    this._model = model;
  }

  /**
   * `env` changed: record it in its notebooks, once for a burst of news of it.
   */
  envChanged(env: string): void {
    clearTimeout(this._timers.get(env));
    this._timers.set(
      env,
      setTimeout(() => {
        this._timers.delete(env);
        void this.record(env);
      }, 200)
    );
  }

  /**
   * Write the env's export into the notebooks running in it now.
   */
  async record(env: string): Promise<void> {
    const panels: NotebookPanel[] = [];
    this._notebooks.forEach(panel => panels.push(panel));
    const targets = notebooksOnEnv(
      panels,
      panel => panel.sessionContext.session?.kernel?.name,
      kernel => this._model.envForKernel(kernel),
      env
    );
    if (targets.length === 0) {
      return;
    }
    let meta: unknown;
    try {
      meta = await exportNotebookEnv(env);
    } catch (reason) {
      console.warn(`jupyter-userpkg: ${env} could not be recorded in its notebooks`, reason);
      return;
    }
    for (const panel of targets) {
      const notebook = panel.model;
      if (
        !panel.isDisposed &&
        notebook &&
        metadataDiffers(notebook.getMetadata(METADATA_KEY), meta)
      ) {
        notebook.setMetadata(METADATA_KEY, meta);
      }
    }
  }

  private _notebooks: INotebookTracker;
  private _model: UserPkgModel;
  private _timers = new Map<string, ReturnType<typeof setTimeout>>();
}

/**
 * The user's env of the notebook's name, if any: its lock's sha256 (null when
 * it cannot be exported).
 */
async function userSha(env: string): Promise<string | null> {
  try {
    const exported = readNotebookEnv(await exportNotebookEnv(env));
    return exported ? exported.lock.sha256 : null;
  } catch {
    return null;
  }
}

/**
 * Shows the banner on each notebook that opens recording an env the user
 * lacks, or one whose lock differs from theirs.
 */
export class EnvBannerTracker {
  constructor(
    notebooks: INotebookTracker,
    model: UserPkgModel,
    trans: TranslationBundle,
    specs: KernelSpec.IManager,
    recorder: NotebookEnvRecorder
  ) {
    this._recorder = recorder;
    this._model = model;
    this._trans = trans;
    this._specs = specs;
    notebooks.widgetAdded.connect((_, panel) => void this._opened(panel));
    notebooks.forEach(panel => void this._opened(panel));
  }

  private async _opened(panel: NotebookPanel): Promise<void> {
    await panel.context.ready;
    const raw: unknown = panel.model?.getMetadata(METADATA_KEY);
    const meta = readNotebookEnv(raw);
    if (!meta || panel.isDisposed) {
      return;
    }
    let names: string[];
    try {
      names = (await this._model.service.listEnvs()).map(e => e.name);
    } catch {
      return;
    }
    const sha = names.includes(meta.env) ? await userSha(meta.env) : null;
    const reason = bannerReason(meta, names, sha);
    if (reason === null || panel.isDisposed) {
      return;
    }
    const banner = new BannerWidget({
      trans: this._trans,
      meta,
      raw,
      reason,
      name: freeName(meta.env, names),
      plan: (name, body) => this._plan(name, body),
      create: (name, body) => this._create(panel, name, body),
      otherKernel: () =>
        void new SessionContextDialogs({}).selectKernel(panel.sessionContext)
    });
    panel.contentHeader.addWidget(banner);
  }

  /**
   * `POST envs` with `dry_run`: the plan of the banner's create, or the
   * server's error in words (a request the policy refuses, a forged field).
   */
  private async _plan(name: string, body: unknown): Promise<IPlan | string> {
    try {
      return await this._model.service.planCreate(uploadBody(body, name));
    } catch (reason) {
      return asError(reason).message;
    }
  }

  /**
   * Create the env from the banner, then move the notebook to its kernel;
   * the error, should it fail.
   */
  private async _create(
    panel: NotebookPanel,
    name: string,
    body: unknown
  ): Promise<string | null> {
    const job = await this._model.createEnv(uploadBody(body, name));
    if (!job) {
      return this._model.error?.message ?? this._trans.__('The environment could not be created.');
    }
    if (job.state !== 'succeeded') {
      return job.error?.message ?? this._trans.__('The job ended %1.', job.state);
    }
    const kernel = `${KERNEL_PREFIX}${name}`;
    for (let i = 0; i < 20 && !this._specs.specs?.kernelspecs[kernel]; i++) {
      await this._specs.refreshSpecs();
      if (!this._specs.specs?.kernelspecs[kernel]) {
        await new Promise(resolve => setTimeout(resolve, 500));
      }
    }
    if (!panel.isDisposed) {
      await panel.sessionContext.changeKernel({ name: kernel });
      // The notebook now records the env it runs in (under its new name, if renamed).
      await this._recorder.record(name);
    }
    return null;
  }

  private _model: UserPkgModel;
  private _trans: TranslationBundle;
  private _specs: KernelSpec.IManager;
  private _recorder: NotebookEnvRecorder;
}

interface IBannerOptions {
  trans: TranslationBundle;
  meta: INotebookEnv;
  /** The metadata as the notebook holds it, sent as it is. */
  raw: unknown;
  reason: BannerReason;
  name: string;
  /** The plan of creating `name` from `raw`, or why it cannot be made. */
  plan: (name: string, raw: unknown) => Promise<IPlan | string>;
  /** Create the env `name`; the error in words, or null once done. */
  create: (name: string, raw: unknown) => Promise<string | null>;
  otherKernel: () => void;
}

/**
 * The banner over a notebook, holding where its create stands.
 */
class BannerWidget extends ReactWidget {
  constructor(options: IBannerOptions) {
    super();
    this._options = options;
    this._summary = summarize(options.meta);
    this.addClass('jp-userpkg-EnvBanner-host');
  }

  /**
   * The notebook's content header lays its widgets out at their minimum
   * height: the banner's is its content's, followed as it wraps or grows.
   */
  protected onUpdateRequest(msg: Message): void {
    super.onUpdateRequest(msg);
    void this.renderPromise?.then(() => this._observe());
  }

  dispose(): void {
    this._resize?.disconnect();
    super.dispose();
  }

  private _observe(): void {
    const inner = this.node.firstElementChild as HTMLElement | null;
    if (!inner || inner === this._observed || this.isDisposed) {
      return;
    }
    this._resize?.disconnect();
    this._observed = inner;
    if (typeof ResizeObserver !== 'undefined') {
      this._resize = new ResizeObserver(() => this._fit());
      this._resize.observe(inner);
    }
    this._fit();
  }

  private _fit(): void {
    const inner = this._observed;
    if (!inner || this.isDisposed) {
      return;
    }
    const height = `${inner.offsetHeight}px`;
    if (this.node.style.minHeight !== height) {
      this.node.style.minHeight = height;
      if (this.parent) {
        MessageLoop.postMessage(this.parent, Widget.Msg.FitRequest);
      }
    }
  }

  render(): JSX.Element {
    const { trans, reason, name } = this._options;
    return (
      <EnvBanner
        trans={trans}
        summary={this._summary}
        reason={reason}
        name={name}
        state={this._state}
        onShowPlan={() => void this._showPlan()}
        onHidePlan={() => {
          this._state = { state: 'idle' };
          this.update();
        }}
        onCreate={() => void this._create()}
        onOtherKernel={this._options.otherKernel}
        onDismiss={() => this.dispose()}
      />
    );
  }

  /**
   * The server's plan of the create (its dry run: what the lock or the
   * requests install under this user's policy, and which), shown in the
   * banner with the panel's plan view; nothing is built.
   */
  private async _showPlan(): Promise<void> {
    if (this._state.state === 'creating' || this._state.state === 'planning') {
      return;
    }
    this._state = { state: 'planning' };
    this.update();
    const planned = await this._options.plan(this._options.name, this._options.raw);
    if (this.isDisposed) {
      return;
    }
    this._state =
      typeof planned === 'string'
        ? { state: 'failed', message: planned }
        : { state: 'plan', plan: planned };
    this.update();
  }

  private async _create(): Promise<void> {
    if (this._state.state === 'creating') {
      return;
    }
    this._state = { state: 'creating' };
    this.update();
    const error = await this._options.create(this._options.name, this._options.raw);
    if (error === null) {
      this.dispose();
      return;
    }
    this._state = { state: 'failed', message: error };
    this.update();
  }

  private _options: IBannerOptions;
  private _summary: IEnvSummary;
  private _state: BannerState = { state: 'idle' };
  private _observed: HTMLElement | null = null;
  private _resize: ResizeObserver | null = null;
}

/**
 * Notebooks that carry their env: each change of an env (the server's env
 * events, which `%userpkg` changes raise too, and the panel's applied jobs) is
 * recorded in the notebooks running in it, and a notebook opening with an env
 * the user lacks gets the banner.
 */
export function trackNotebookEnvs(
  app: JupyterFrontEnd,
  notebooks: INotebookTracker,
  model: UserPkgModel,
  trans: TranslationBundle
): void {
  const recorder = new NotebookEnvRecorder(notebooks, model);
  app.serviceManager.events.stream.connect((_, event) => {
    if (
      event.schema_id === ENV_EVENT_SCHEMA &&
      (event.action === 'changed' || event.action === 'created') &&
      typeof event.env === 'string'
    ) {
      recorder.envChanged(event.env);
    }
  });
  model.applied.connect((_, applied) => {
    if (applied.job.verb !== 'delete') {
      recorder.envChanged(applied.job.env);
    }
  });
  new EnvBannerTracker(notebooks, model, trans, app.serviceManager.kernelspecs, recorder);
}
