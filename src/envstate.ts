import { ISignal, Signal } from '@lumino/signaling';

import type { UserPkgService } from './service';

import {
  DEFAULT_ENV,
  IAdvisory,
  IEnv,
  IKind,
  IPackage,
  IRevision,
  envKernel,
  envOfKernel
} from './tokens';

/**
 * What envs there are, which one is shown, and what it holds: read from
 * the server, with a signal for every change.
 *
 * The Packages panel's model (`UserPkgModel`) adds what the user does
 * with them: plans, jobs, the policy, the active kernel.
 */
export class EnvState {
  constructor(service: UserPkgService) {
    this.service = service;
  }

  readonly service: UserPkgService;

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
  get history(): IRevision[] {
    return this._history;
  }
  get loading(): boolean {
    return this._loading > 0;
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
  /** The kinds of env the server makes (`GET kinds`, read once); [] until read. */
  get kinds(): IKind[] {
    return this._kinds ?? [];
  }
  /** What the selected env's kind can do; null until known (or a broken env). */
  get selectedKind(): IKind | null {
    const env = this.selectedEnv;
    return env ? this.kindOf(env.kind) : null;
  }
  /** The kind of an env created without one (`default` is one of it). */
  get defaultKind(): IKind | null {
    return this.kinds.find(k => k.default) ?? null;
  }

  /**
   * A kind by its name, as an env names it; null for one the server does not list.
   */
  kindOf(name: string): IKind | null {
    return this.kinds.find(k => k.name === name) ?? null;
  }

  /**
   * The env a kernelspec belongs to (`default` for a kernel of no env).
   */
  envForKernel(kernelName: string): string {
    const lower = kernelName.toLowerCase();
    const env = this._envs.find(e => e.kernel?.toLowerCase() === lower);
    // An R or Julia kernel the env's packages ship is of the env too.
    const shipped = env ? null : envKernel(this._envs, kernelName);
    return env ? env.name : shipped ? shipped.env : envOfKernel(kernelName);
  }

  /**
   * Read the envs again, then the selected env's packages and history.
   */
  async refresh(): Promise<void> {
    await this._task(async () => {
      const [envs, kinds] = await Promise.all([
        this.service.listEnvs(),
        this._kinds ?? this.service.kinds()
      ]);
      this._envs = envs;
      this._kinds = kinds;
    });
    this._envsRead();
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
    this._selectedChanged();
    this._envsRead();
    this._emit();
    await this.refreshSelected();
  }

  /**
   * The packages of every env but the selected one, by env name (those that
   * cannot be read are left out).
   */
  async otherEnvsPackages(): Promise<Map<string, IPackage[]>> {
    const others = this._envs.filter(
      e => e.name !== this._selected && e.kind !== 'broken'
    );
    const read = await Promise.all(
      others.map(e => this.service.packages(e.name).catch(() => null))
    );
    const found = new Map<string, IPackage[]>();
    others.forEach((env, i) => {
      const packages = read[i];
      if (packages) {
        found.set(env.name, packages);
      }
    });
    return found;
  }

  /** Called when the env list was read (and when another env is shown). */
  protected _envsRead(): void {
    // Nothing by default.
  }

  /** Called when another env is shown, before its packages are read. */
  protected _selectedChanged(): void {
    // Nothing by default.
  }

  /** Called with what reading from the server failed with. */
  protected _readFailed(_reason: unknown): void {
    // Nothing by default.
  }

  protected async _task(work: () => Promise<void>): Promise<void> {
    this._loading++;
    this._emit();
    try {
      await work();
    } catch (reason) {
      this._readFailed(reason);
    } finally {
      this._loading--;
      this._emit();
    }
  }

  protected _emit(): void {
    this._changed.emit();
  }

  private _changed = new Signal<this, void>(this);
  private _envs: IEnv[] = [];
  private _kinds: IKind[] | null = null;
  private _selected = DEFAULT_ENV;
  private _packages: IPackage[] = [];
  private _history: IRevision[] = [];
  private _loading = 0;
  private _refreshing: Promise<void> | null = null;
  private _refreshAgain = false;
}

/**
 * Whether the panel's change actions are off: while a job runs, and always on a
 * shared env, which only the administrator changes (the server refuses users).
 */
export function changesOff(jobRunning: boolean, env: IEnv | null): boolean {
  return jobRunning || env?.shared === true;
}
