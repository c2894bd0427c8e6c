import { PromiseDelegate } from '@lumino/coreutils';

import { ISignal, Signal } from '@lumino/signaling';

import { asError } from './request';

import type { UserPkgService } from './service';

import { IJob, IJobBusEvent, isFinished } from './tokens';

/**
 * Options of a job tracker.
 */
export interface IJobTrackerOptions {
  /** Milliseconds between two polls of `GET jobs/{id}`. */
  pollInterval?: number;
  /** Milliseconds after an event of the job during which no poll is needed. */
  quietPeriod?: number;
  /** Failed polls in a row after which the job counts as lost. */
  maxFailures?: number;
}

/**
 * Follows one job to its end.
 *
 * The job's events on the server's event bus move it along as they come;
 * while none comes (the event stream is not connected, or a step is long),
 * `GET jobs/{id}` is polled every `pollInterval` ms. Once the job has ended,
 * its full record (result or error) is read once more and `done` resolves.
 */
export class JobTracker {
  constructor(
    service: UserPkgService,
    job: IJob,
    options: IJobTrackerOptions = {}
  ) {
    this._service = service;
    this._job = { ...job, events: [...(job.events ?? [])] };
    this._pollInterval = options.pollInterval ?? 500;
    this._quietPeriod = options.quietPeriod ?? 1000;
    this._maxFailures = options.maxFailures ?? 10;
    if (isFinished(job.state)) {
      void this._finish();
    } else {
      this._timer = setInterval(() => void this._poll(), this._pollInterval);
    }
  }

  /**
   * The job's id.
   */
  get id(): string {
    return this._job.id;
  }

  /**
   * The job as known now.
   */
  get job(): IJob {
    return this._job;
  }

  /**
   * Emitted whenever the job changed (state or a new event).
   */
  get changed(): ISignal<this, IJob> {
    return this._changed;
  }

  /**
   * Resolves with the finished job (its full record).
   */
  get done(): Promise<IJob> {
    return this._done.promise;
  }

  /**
   * Whether the tracker has stopped.
   */
  get isDisposed(): boolean {
    return this._disposed;
  }

  /**
   * Take in an event of the event bus about this job.
   */
  handleEvent(event: IJobBusEvent): void {
    if (this._disposed || event.id !== this._job.id || this._finishing) {
      return;
    }
    this._lastEvent = Date.now();
    const events = event.event
      ? [...this._job.events, event.event]
      : this._job.events;
    this._job = {
      ...this._job,
      state: event.state,
      events,
      error: event.error ?? this._job.error
    };
    this._changed.emit(this._job);
    if (isFinished(event.state)) {
      void this._finish();
    }
  }

  /**
   * Ask the server to stop the job (`DELETE jobs/{id}`).
   */
  async cancel(): Promise<void> {
    const job = await this._service.cancelJob(this._job.id);
    this._update(job);
  }

  /**
   * Stop following the job.
   */
  dispose(): void {
    if (this._disposed) {
      return;
    }
    this._disposed = true;
    this._stopTimer();
    Signal.clearData(this);
  }

  private async _poll(): Promise<void> {
    if (this._disposed || this._finishing || this._polling) {
      return;
    }
    if (Date.now() - this._lastEvent < this._quietPeriod) {
      return;
    }
    this._polling = true;
    try {
      const job = await this._service.getJob(this._job.id);
      this._failures = 0;
      this._update(job);
    } catch (reason) {
      this._failures += 1;
      const error = asError(reason);
      if (error.code === 'job_not_found' || this._failures >= this._maxFailures) {
        this._job = { ...this._job, state: 'failed', error };
        this._changed.emit(this._job);
        this._settle();
      }
    } finally {
      this._polling = false;
    }
  }

  private _update(job: IJob): void {
    if (this._disposed || this._finishing) {
      return;
    }
    this._job = job;
    this._changed.emit(job);
    if (isFinished(job.state)) {
      void this._finish();
    }
  }

  private async _finish(): Promise<void> {
    if (this._finishing) {
      return;
    }
    this._finishing = true;
    this._stopTimer();
    try {
      const job = await this._service.getJob(this._job.id);
      if (isFinished(job.state)) {
        this._job = job;
      }
    } catch {
      // The state from the event bus stands.
    }
    if (!this._disposed) {
      this._changed.emit(this._job);
    }
    this._settle();
  }

  private _settle(): void {
    this._finishing = true;
    this._stopTimer();
    this._done.resolve(this._job);
  }

  private _stopTimer(): void {
    if (this._timer !== undefined) {
      clearInterval(this._timer);
      this._timer = undefined;
    }
  }

  private _service: UserPkgService;
  private _job: IJob;
  private _pollInterval: number;
  private _quietPeriod: number;
  private _maxFailures: number;
  private _timer: ReturnType<typeof setInterval> | undefined;
  private _lastEvent = 0;
  private _failures = 0;
  private _polling = false;
  private _finishing = false;
  private _disposed = false;
  private _changed = new Signal<this, IJob>(this);
  private _done = new PromiseDelegate<IJob>();
}
