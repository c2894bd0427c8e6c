import { ISignal, Signal } from '@lumino/signaling';

import { EnvState } from './envstate';

import { JobTracker, IJobTrackerOptions } from './jobtracker';

import { fixOf } from './policy';

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
  IError,
  IExportedFile,
  IJob,
  IJobBusEvent,
  IPackage,
  IPolicyAnswer,
  IResult,
  JOB_EVENT_SCHEMA
} from './tokens';

/**
 * What a finished job changed, for the notification after Apply.
 */
export interface IAppliedChange {
  job: IJob;
  /** The request applied (a change), if the panel knows it. */
  request: IChangeRequest | null;
}

/**
 * State of the Packages panel, with a signal for every change.
 *
 * What an action brought (its plan, the job's progress, its error) is shown
 * where the action was taken: `origin` names that place (`package:NAME`,
 * `info:NAME`, `update-all`, `revision:N`), null for the top of the panel.
 */
export class UserPkgModel extends EnvState {
  constructor(
    service: UserPkgService,
    options: { jobs?: IJobTrackerOptions; probe?: IKernelProbe; searchDelay?: number } = {}
  ) {
    super(service);
    this._jobOptions = options.jobs ?? {};
    this._probe = options.probe ?? { modules: k => kernelModules(k) };
    this.search = new SearchModel(service, options.searchDelay);
    this.search.changed.connect(this._emit, this);
  }

  readonly search: SearchModel;

  /** Emitted when a job succeeded: what it changed. */
  get applied(): ISignal<this, IAppliedChange> {
    return this._applied;
  }
  /** Where the current plan, job or error was asked for; null: the top. */
  get origin(): string | null {
    return this._origin;
  }
  /** Packages of the user's other envs (read with `loadOtherEnvs`), by env. */
  get otherEnvs(): Map<string, IPackage[]> {
    return this._otherEnvs;
  }
  /** The policy as last read (`loadPolicy`). */
  get policy(): IPolicyAnswer | null {
    return this._policy;
  }
  get policyLoading(): boolean {
    return this._policyLoading;
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

  setTab(tab: Tab): void {
    this._tab = tab;
    if (tab === 'search') {
      void this.loadOtherEnvs();
    }
    this._emit();
  }

  /**
   * Read what the user's other envs hold (search marks what is installed).
   */
  async loadOtherEnvs(): Promise<void> {
    this._otherEnvs = await this.otherEnvsPackages();
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

  /**
   * Where what comes next (plan, job, error) shows: see `origin`.
   */
  setOrigin(origin: string | null): void {
    this._origin = origin;
  }

  dismissStale(): void {
    this._stale = null;
    this._emit();
  }

  /**
   * Plan a change of the selected env and show it.
   */
  async planChange(
    request: IChangeRequest,
    origin: string | null = null
  ): Promise<void> {
    const env = this.selected;
    this._origin = origin;
    await this._plan(async () => {
      const plan = await this.service.plan(env, request);
      return { kind: 'change', env, request, plan };
    });
  }

  /**
   * Plan the fix of an advisory (`update NAME -n ENV`, `remove NAME -n ENV`)
   * as the change it names, in its env; the plan shows as any other, to be
   * applied or discarded. Whether a fix can be planned: see `fixOf`.
   */
  async planFix(advisory: IAdvisory): Promise<void> {
    const fix = fixOf(advisory);
    if (!fix) {
      return;
    }
    if (fix.env !== null && fix.env !== this.selected) {
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
    const env = this.selected;
    this._origin = `revision:${revision}`;
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
    this._applying = pending.kind === 'change' ? pending.request : null;
    this._provided = pending.plan.modules ?? {};
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
    this._origin = null;
    this._applying = null;
    return this._startJob(() => this.service.createEnv(request));
  }

  /**
   * Delete an env and its kernel (a job).
   */
  deleteEnv(env: string): Promise<IJob | null> {
    this._origin = null;
    this._applying = null;
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
    return this.service.exportEnv(this.selected, format);
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
  protected _envsRead(): void {
    const env = this.selectedEnv;
    if (env && this._sourceEnv !== env.name) {
      this._sourceEnv = env.name;
      this.search.setSource(this.selectedKind?.channels ? 'conda' : 'pypi');
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
    this._applied.emit({ job, request: this._applying });
    if (job.verb === 'create') {
      this._createOpen = false;
      await this.select(job.env);
    } else if (job.verb === 'delete' && this.selected === job.env) {
      await this.select(DEFAULT_ENV);
    } else if (job.verb === 'change' || job.verb === 'rollback') {
      const result = job.result as IResult | null;
      const changes = result?.plan?.changes ?? job.plan?.changes ?? [];
      await this._checkStale(job.env, changes, this._provided);
    }
  }

  private async _checkStale(
    env: string,
    changes: IChange[],
    provided: Record<string, string[]>
  ): Promise<void> {
    const connection = this._kernel?.connection;
    if (!connection || this.notebookEnv !== env || changes.length === 0) {
      return;
    }
    const modules = await this._probe.modules(connection);
    const stale = modules ? staleModules(changes, modules, provided) : [];
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

  protected _selectedChanged(): void {
    this._pending = null;
    this.search.closeInfo();
  }

  protected _readFailed(reason: unknown): void {
    this._error = asError(reason);
    this._origin = null;
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

  private _applied = new Signal<this, IAppliedChange>(this);
  private _origin: string | null = null;
  private _applying: IChangeRequest | null = null;
  private _provided: Record<string, string[]> = {};
  private _otherEnvs = new Map<string, IPackage[]>();
  private _jobOptions: IJobTrackerOptions;
  private _probe: IKernelProbe;
  private _tab: Tab = 'packages';
  private _createOpen = false;
  private _pending: PendingChange | null = null;
  private _planning = false;
  private _tracker: JobTracker | null = null;
  private _error: IError | null = null;
  private _stale: IStaleNotice | null = null;
  private _kernel: IActiveKernel | null = null;
  private _sourceEnv: string | null = null;
  private _policy: IPolicyAnswer | null = null;
  private _policyLoading = false;
}
