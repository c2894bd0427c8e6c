import { ISignal, Signal } from '@lumino/signaling';

import { asError } from './request';

import type { UserPkgService } from './service';

import {
  IError,
  IPackageInfo,
  ISearchHit,
  ISearchResult,
  SearchSource
} from './tokens';

/**
 * After this long, a search says what takes the time (ms).
 */
export const SLOW_MS = 1500;

/**
 * Search as you type, and the details of the package picked.
 *
 * A query is sent `delay` ms after the last keystroke; an answer to an older
 * query than the newest is dropped.
 */
export class SearchModel {
  constructor(service: UserPkgService, delay = 100) {
    this._service = service;
    this._delay = delay;
  }

  /**
   * Emitted when anything below changed.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  get query(): string {
    return this._query;
  }

  get source(): SearchSource {
    return this._source;
  }

  get result(): ISearchResult | null {
    return this._result;
  }

  get searching(): boolean {
    return this._searching;
  }

  /** Whether the search in flight has taken more than `SLOW_MS`. */
  get slow(): boolean {
    return this._slow;
  }

  get error(): IError | null {
    return this._error;
  }

  /** The package whose details are shown. */
  get info(): IPackageInfo | null {
    return this._info;
  }

  get infoLoading(): boolean {
    return this._infoLoading;
  }

  /**
   * Set the query; the search runs after a pause in typing.
   */
  setQuery(query: string): void {
    this._query = query;
    this._schedule();
    this._changed.emit();
  }

  /**
   * Search PyPI or the conda channels.
   */
  setSource(source: SearchSource): void {
    if (source === this._source) {
      return;
    }
    this._source = source;
    this._info = null;
    this._schedule();
    this._changed.emit();
  }

  /**
   * Run the search for the current query now.
   */
  async search(): Promise<void> {
    this._clearTimer();
    const query = this._query.trim();
    const generation = ++this._generation;
    if (!query) {
      this._result = null;
      this._error = null;
      this._searching = false;
      this._changed.emit();
      return;
    }
    this._searching = true;
    this._slow = false;
    const slowTimer = setTimeout(() => {
      if (generation === this._generation && this._searching) {
        this._slow = true;
        this._changed.emit();
      }
    }, SLOW_MS);
    this._changed.emit();
    try {
      const result = await this._service.search(query, this._source);
      if (generation === this._generation) {
        this._result = result;
        this._error = null;
      }
    } catch (reason) {
      if (generation === this._generation) {
        this._result = null;
        this._error = asError(reason);
      }
    } finally {
      clearTimeout(slowTimer);
      if (generation === this._generation) {
        this._searching = false;
        this._slow = false;
        this._changed.emit();
      }
    }
  }

  /**
   * Show the details of a package found.
   */
  async showInfo(hit: Pick<ISearchHit, 'name' | 'source'>): Promise<void> {
    const generation = ++this._infoGeneration;
    this._infoLoading = true;
    this._error = null;
    this._changed.emit();
    try {
      const info = await this._service.packageInfo(hit.name, hit.source);
      if (generation === this._infoGeneration) {
        this._info = info;
      }
    } catch (reason) {
      if (generation === this._infoGeneration) {
        this._info = null;
        this._error = asError(reason);
      }
    } finally {
      if (generation === this._infoGeneration) {
        this._infoLoading = false;
        this._changed.emit();
      }
    }
  }

  /**
   * Close the package details.
   */
  closeInfo(): void {
    this._infoGeneration++;
    this._info = null;
    this._infoLoading = false;
    this._changed.emit();
  }

  dismissError(): void {
    this._error = null;
    this._changed.emit();
  }

  /**
   * Stop any pending search.
   */
  dispose(): void {
    this._clearTimer();
    this._generation++;
    Signal.clearData(this);
  }

  private _schedule(): void {
    this._clearTimer();
    this._timer = setTimeout(() => void this.search(), this._delay);
  }

  private _clearTimer(): void {
    if (this._timer !== undefined) {
      clearTimeout(this._timer);
      this._timer = undefined;
    }
  }

  private _service: UserPkgService;
  private _delay: number;
  private _query = '';
  private _source: SearchSource = 'pypi';
  private _result: ISearchResult | null = null;
  private _searching = false;
  private _slow = false;
  private _error: IError | null = null;
  private _info: IPackageInfo | null = null;
  private _infoLoading = false;
  private _generation = 0;
  private _infoGeneration = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _changed = new Signal<this, void>(this);
}
