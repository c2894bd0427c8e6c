import { ISignal, Signal } from '@lumino/signaling';

import { JobTracker, IJobTrackerOptions } from './jobtracker';

import { parseFix } from './policy';

import { asError } from './request';

import { SearchModel } from './searchmodel';

import type { UserPkgService } from './service';

import { kernelModules, staleModules } from './stale';

import {
  IActiveKernel,
  IKernelProbe,
  IStaleNotice,
  PendingChange,
  Tab
} from './modeltypes';

export type { IActiveKernel, IKernelProbe, IStaleNotice, PendingChange, Tab };

import {
  DEFAULT_ENV,
  ENV_EVENT_SCHEMA,
  ExportFormat,
  IAdvisory,
  IChange,
  IChangeRequest,
  ICreateEnvRequest,
  IEnv,
  IError,
  IExportedFile,
  IJob,
  IJobBusEvent,
  IPackage,
  IPolicyAnswer,
  IResult,
  IRevision,
  JOB_EVENT_SCHEMA,
  envOfKernel
} from './tokens';

/**
 * State of the Packages panel, with a signal for every change.
 */
export class UserPkgModel {
  constructor(
    service: UserPkgService,
    options: { jobs?: IJobTrackerOptions; probe?: IKernelProbe; searchDelay?: number } = {}
  ) {
    this.service = service;
    this._jobOptions = options.jobs ?? {};
    this._probe = options.probe ?? { modules: k => kernelModules(k) };
    this.search = new SearchModel(service, options.searchDelay);
    this.search.changed.connect(this._emit, this);
  }

  readonly service: UserPkgService;
  readonly search: SearchModel;

  get changed(): ISignal<this, void> {
    return this._changed;
  }
  get envs(): IEnv[] {
    return this._envs;
  }
  /** The names the selector offers: every env, and `default` always. */
  get envNames(): string[] {
    const names = this._envs.map(env => env.name);
    return names.includes(DEFAULT_ENV) ? names : [DEFAULT_ENV, ...names];
  }
  get selected(): string {
    return this._selected;
  }
  get selectedEnv(): IEnv | null {
    return this._envs.find(env => env.name === this._selected) ?? null;
  }
  get packages(): IPackage[] {
    return this._packages;
  }
  /** What the selected env holds that the administrator's policy refuses. */
  get advisories(): IAdvisory[] {
    return this.selectedEnv?.advisories ?? [];
  }
  /** The advisories of each env that has some. */
  get advisoriesByEnv(): Record<string, IAdvisory[]> {
    const found: Record<string, IAdvisory[]> = {};
    for (const env of this._envs) {
      if (env.advisories && env.advisories.length > 0) {
        found[env.name] = env.advisories;
      }
    }
    return found;
  }
  /** The policy as last read (`loadPolicy`). */
  get policy(): IPolicyAnswer | null {
    return this._policy;
  }
  get policyLoading(): boolean {
    return this._policyLoading;
  }
  get history(): IRevision[] {
    return this._history;
  }
  get loading(): boolean {
    return this._loading > 0;
  }
  get tab(): Tab {
    return this._tab;
  }
  get createOpen(): boolean {
    return this._createOpen;
  }
  get pending(): PendingChange | null {
    return this._pending;
  }
  get planning(): boolean {
    return this._planning;
  }
  get job(): IJob | null {
    return this._tracker?.job ?? null;
  }
  get error(): IError | null {
    return this._error;
  }
  get stale(): IStaleNotice | null {
    return this._stale;
  }
  get activeKernel(): IActiveKernel | null {
    return this._kernel;
  }
  /** The env of the active notebook's kernel; null without one. */
  get notebookEnv(): string | null {
    return this._kernel?.name ? this.envForKernel(this._kernel.name) : null;
  }
  /** Whether the selected env is a conda env. */
  get isConda(): boolean {
    return this.selectedEnv?.kind === 'conda';
  }

  /**
   * The env a kernelspec belongs to (`default` for a kernel of no env).
   */
  envForKernel(kernelName: string): string {
    const lower = kernelName.toLowerCase();
    const env = this._envs.find(e => e.kernel?.toLowerCase() === lower);
    return env ? env.name : envOfKernel(kernelName);
  }

  /**
   * Read the envs again, then the selected env's packages and history.
   */
  async refresh(): Promise<void> {
    await this._task(async () => {
      this._envs = await this.service.listEnvs();
    });
    this._matchSource();
    const selected = this._selected;
    if (selected !== DEFAULT_ENV && !this._envs.some(e => e.name === selected)) {
      await this.select(DEFAULT_ENV);
    } else {
      await this.refreshSelected();
    }
  }

  /**
   * Refresh once more after the refresh in flight, if any: a burst of events
   * costs two refreshes at most.
   */
  refreshSoon(): Promise<void> {
    if (this._refreshing) {
      this._refreshAgain = true;
      return this._refreshing;
    }
    const run = async (): Promise<void> => {
      do {
        this._refreshAgain = false;
        await this.refresh();
      } while (this._refreshAgain);
      this._refreshing = null;
    };
    this._refreshing = run();
    return this._refreshing;
  }

  /**
   * Read the selected env's packages and history again.
   */
  async refreshSelected(): Promise<void> {
    const env = this._selected;
    await this._task(async () => {
      const [packages, history] = await Promise.all([
        this.service.packages(env),
        this.service.history(env)
      ]);
      if (env === this._selected) {
        this._packages = packages;
        this._history = history;
      }
    });
  }

  /**
   * Show another env.
   */
  async select(env: string): Promise<void> {
    if (env === this._selected) {
      return;
    }
    this._selected = env;
    this._packages = [];
    this._history = [];
    this._pending = null;
    this.search.closeInfo();
    this._matchSource();
    this._emit();
    await this.refreshSelected();
  }

  setTab(tab: Tab): void {
    this._tab = tab;
    this._emit();
  }

  setCreateOpen(open: boolean): void {
    this._createOpen = open;
    this._emit();
  }

  dismissError(): void {
    this._error = null;
    this._emit();
  }

  dismissStale(): void {
    this._stale = null;
    this._emit();
  }

  /**
   * Plan a change of the selected env and show it.
   */
  async planChange(request: IChangeRequest): Promise<void> {
    const env = this._selected;
    await this._plan(async () => {
      const plan = await this.service.plan(env, request);
      return { kind: 'change', env, request, plan };
    });
  }

  /**
   * Plan the fix of an advisory (`update NAME -n ENV`, `remove NAME -n ENV`)
   * as the change it names, in its env; the plan shows as any other, to be
   * applied or discarded. Whether a fix can be planned: see `parseFix`.
   */
  async planFix(advisory: IAdvisory): Promise<void> {
    const fix = parseFix(advisory.fix);
    if (!fix) {
      return;
    }
    if (fix.env !== null && fix.env !== this._selected) {
      await this.select(fix.env);
    }
    await this.planChange(fix.request);
  }

  /**
   * Read the administrator's policy (`GET policy`); null when it cannot be
   * read (the error shows).
   */
  async loadPolicy(check = false): Promise<IPolicyAnswer | null> {
    this._policyLoading = true;
    this._emit();
    try {
      this._policy = await this.service.policy(check);
      return this._policy;
    } catch (reason) {
      this._error = asError(reason);
      return null;
    } finally {
      this._policyLoading = false;
      this._emit();
    }
  }

  /**
   * Plan a return of the selected env to `revision` and show it.
   */
  async planRollback(revision: number): Promise<void> {
    const env = this._selected;
    await this._plan(async () => {
      const plan = await this.service.rollbackPlan(env, revision);
      return { kind: 'rollback', env, revision, plan };
    });
  }

  discardPending(): void {
    this._pending = null;
    this._emit();
  }

  /**
   * Apply the plan shown, as a job.
   */
  async applyPending(): Promise<IJob | null> {
    const pending = this._pending;
    if (!pending) {
      return null;
    }
    this._pending = null;
    return this._startJob(() =>
      pending.kind === 'change'
        ? this.service.applyChange(pending.env, pending.request)
        : this.service.rollback(pending.env, pending.revision)
    );
  }

  /**
   * Create an env (a job); once it exists, it is selected.
   */
  createEnv(request: ICreateEnvRequest): Promise<IJob | null> {
    return this._startJob(() => this.service.createEnv(request));
  }

  /**
   * Delete an env and its kernel (a job).
   */
  deleteEnv(env: string): Promise<IJob | null> {
    return this._startJob(() => this.service.deleteEnv(env));
  }

  /**
   * Ask the running job to stop.
   */
  async cancelJob(): Promise<void> {
    try {
      await this._tracker?.cancel();
    } catch (reason) {
      this._setError(reason);
    }
  }

  /**
   * The selected env as a file.
   */
  exportEnv(format: ExportFormat): Promise<IExportedFile> {
    return this.service.exportEnv(this._selected, format);
  }

  /**
   * Follow the active notebook: its kernel's env becomes the selected one.
   */
  setActiveKernel(kernel: IActiveKernel | null): void {
    const before = this.notebookEnv;
    this._kernel = kernel;
    const after = this.notebookEnv;
    if (after !== null && after !== before) {
      void this.select(after);
    }
    this._emit();
  }

  /**
   * Restart the active kernel, which drops the stale modules.
   */
  async restartKernel(): Promise<void> {
    const kernel = this._kernel;
    try {
      if (kernel?.restart) {
        await kernel.restart();
      } else {
        await kernel?.connection?.restart();
      }
      this._stale = null;
      this._emit();
    } catch (reason) {
      this._setError(reason);
    }
  }

  /**
   * Take in an event of the server's event bus.
   */
  handleEvent(event: { schema_id: string }): void {
    if (event.schema_id === JOB_EVENT_SCHEMA) {
      this._tracker?.handleEvent(event as IJobBusEvent);
    } else if (event.schema_id === ENV_EVENT_SCHEMA) {
      // A deleted selected env gives way to `default` in `refresh`.
      void this.refreshSoon();
    }
  }

  dispose(): void {
    this._tracker?.dispose();
    this.search.dispose();
    Signal.clearData(this);
  }

  /**
   * Search where the selected env takes packages from (a conda env: its
   * channels), once its kind is known; the user may switch afterwards.
   */
  private _matchSource(): void {
    const env = this.selectedEnv;
    if (env && this._sourceEnv !== env.name) {
      this._sourceEnv = env.name;
      this.search.setSource(env.kind === 'conda' ? 'conda' : 'pypi');
    }
  }

  private async _startJob(start: () => Promise<IJob>): Promise<IJob | null> {
    this._error = null;
    this._stale = null;
    let job: IJob;
    try {
      job = await start();
    } catch (reason) {
      this._setError(reason);
      return null;
    }
    this._tracker?.dispose();
    const tracker = new JobTracker(this.service, job, this._jobOptions);
    this._tracker = tracker;
    tracker.changed.connect(this._emit, this);
    this._emit();
    const final = await tracker.done;
    await this._jobEnded(final);
    if (this._tracker === tracker) {
      tracker.dispose();
      this._tracker = null;
    }
    this._emit();
    return final;
  }

  private async _jobEnded(job: IJob): Promise<void> {
    if (job.state !== 'succeeded') {
      this._error = job.error ?? {
        code: job.state,
        message: `The job ended ${job.state}.`
      };
    }
    await this.refresh();
    if (job.state !== 'succeeded') {
      return;
    }
    if (job.verb === 'create') {
      this._createOpen = false;
      await this.select(job.env);
    } else if (job.verb === 'delete' && this._selected === job.env) {
      await this.select(DEFAULT_ENV);
    } else if (job.verb === 'change' || job.verb === 'rollback') {
      const result = job.result as IResult | null;
      const changes = result?.plan?.changes ?? job.plan?.changes ?? [];
      await this._checkStale(job.env, changes);
    }
  }

  private async _checkStale(env: string, changes: IChange[]): Promise<void> {
    const connection = this._kernel?.connection;
    if (!connection || this.notebookEnv !== env || changes.length === 0) {
      return;
    }
    const modules = await this._probe.modules(connection);
    const stale = modules ? staleModules(changes, modules) : [];
    this._stale = stale.length > 0 ? { env, modules: stale } : null;
  }

  private async _plan(make: () => Promise<PendingChange>): Promise<void> {
    this._planning = true;
    this._pending = null;
    this._error = null;
    this._emit();
    try {
      this._pending = await make();
    } catch (reason) {
      this._error = asError(reason);
    } finally {
      this._planning = false;
      this._emit();
    }
  }

  private async _task(work: () => Promise<void>): Promise<void> {
    this._loading++;
    this._emit();
    try {
      await work();
    } catch (reason) {
      this._error = asError(reason);
    } finally {
      this._loading--;
      this._emit();
    }
  }

  /**
   * Show an error of something done outside the model.
   */
  reportError(reason: unknown): void {
    this._setError(reason);
  }

  private _setError(reason: unknown): void {
    this._error = asError(reason);
    this._emit();
  }

  private _emit(): void {
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _jobOptions: IJobTrackerOptions;
  private _probe: IKernelProbe;
  private _envs: IEnv[] = [];
  private _selected = DEFAULT_ENV;
  private _packages: IPackage[] = [];
  private _history: IRevision[] = [];
  private _loading = 0;
  private _tab: Tab = 'packages';
  private _createOpen = false;
  private _pending: PendingChange | null = null;
  private _planning = false;
  private _tracker: JobTracker | null = null;
  private _error: IError | null = null;
  private _stale: IStaleNotice | null = null;
  private _kernel: IActiveKernel | null = null;
  private _refreshing: Promise<void> | null = null;
  private _refreshAgain = false;
  private _sourceEnv: string | null = null;
  private _policy: IPolicyAnswer | null = null;
  private _policyLoading = false;
}
