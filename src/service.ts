import { ServerConnection } from '@jupyterlab/services';

import { parseJSON, requestAPI, requestRaw } from './request';

import {
  ExportFormat,
  IChangeRequest,
  ICreateEnvRequest,
  IEnv,
  IExportedFile,
  IHealth,
  IJob,
  IKind,
  IPackage,
  IPackageInfo,
  IPlan,
  IPolicyAnswer,
  IRevision,
  ISearchResult,
  SearchSource
} from './tokens';

/**
 * The endpoints of the jupyter-userpkg REST API, typed.
 *
 * `listEnvs` and `packages` send the ETag of their last answer and reuse it
 * when the server says nothing changed (`304`).
 */
export class UserPkgService {
  constructor(settings?: ServerConnection.ISettings) {
    this._settings = settings;
  }

  /**
   * `GET health`.
   */
  health(): Promise<IHealth> {
    return this._json<IHealth>('health');
  }

  /**
   * `GET kinds`: each kind of environment and what it can do.
   */
  kinds(): Promise<IKind[]> {
    return this._json<IKind[]>('kinds');
  }

  /**
   * `GET envs`: every environment, sorted by name.
   */
  listEnvs(): Promise<IEnv[]> {
    return this._cached<IEnv[]>('envs');
  }

  /**
   * `GET envs/{env}`.
   */
  getEnv(env: string): Promise<IEnv> {
    return this._json<IEnv>(envPath(env));
  }

  /**
   * `POST envs`: a job that creates the environment.
   */
  createEnv(request: ICreateEnvRequest): Promise<IJob> {
    return this._json<IJob>('envs', post(request));
  }

  /**
   * `POST envs` with `dry_run`: the plan of a create (the policy applied,
   * nothing made), as `plan` answers a change's.
   */
  planCreate(request: ICreateEnvRequest): Promise<IPlan> {
    return this._json<IPlan>('envs', post({ ...request, dry_run: true }));
  }

  /**
   * `DELETE envs/{env}`: a job that deletes the environment and its kernel.
   */
  deleteEnv(env: string): Promise<IJob> {
    return this._json<IJob>(envPath(env), { method: 'DELETE' });
  }

  /**
   * `GET envs/{env}/packages`.
   */
  packages(env: string): Promise<IPackage[]> {
    return this._cached<IPackage[]>(`${envPath(env)}/packages`);
  }

  /**
   * `GET envs/{env}/packages/{name}/dependents`: the env's packages that
   * depend on `name`.
   */
  async dependents(env: string, name: string): Promise<string[]> {
    const answer = await this._json<{ required_by: string[] }>(
      `${envPath(env)}/packages/${encodeURIComponent(name)}/dependents`
    );
    return answer.required_by;
  }

  /**
   * `POST envs/{env}/plan`: what a change would do; nothing is touched.
   */
  plan(env: string, change: IChangeRequest): Promise<IPlan> {
    return this._json<IPlan>(`${envPath(env)}/plan`, post(change));
  }

  /**
   * `POST envs/{env}/transactions`: a job that applies a change.
   */
  applyChange(env: string, change: IChangeRequest): Promise<IJob> {
    return this._json<IJob>(`${envPath(env)}/transactions`, post(change));
  }

  /**
   * `POST envs/{env}/rollback` with `dry_run`: the plan of a rollback.
   */
  rollbackPlan(env: string, revision: number): Promise<IPlan> {
    return this._json<IPlan>(
      `${envPath(env)}/rollback`,
      post({ revision, dry_run: true })
    );
  }

  /**
   * `POST envs/{env}/rollback`: a job that returns to a revision.
   */
  rollback(env: string, revision: number): Promise<IJob> {
    return this._json<IJob>(`${envPath(env)}/rollback`, post({ revision }));
  }

  /**
   * `GET envs/{env}/history`: every revision, oldest first.
   */
  history(env: string): Promise<IRevision[]> {
    return this._json<IRevision[]>(`${envPath(env)}/history`);
  }

  /**
   * `GET envs/{env}/export?format=`: the file, with its name.
   */
  async exportEnv(
    env: string,
    format: ExportFormat = 'requirements'
  ): Promise<IExportedFile> {
    const raw = await requestRaw(
      `${envPath(env)}/export?format=${encodeURIComponent(format)}`,
      {},
      this._settings
    );
    const disposition = raw.headers.get('Content-Disposition') ?? '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    return {
      filename: match ? match[1] : defaultFileName(env, format),
      content: raw.text,
      contentType: raw.headers.get('Content-Type') ?? 'text/plain'
    };
  }

  /**
   * `GET search?q=&source=`.
   */
  search(
    query: string,
    source?: SearchSource,
    limit?: number
  ): Promise<ISearchResult> {
    const params = new URLSearchParams({ q: query });
    if (source) {
      params.set('source', source);
    }
    if (limit !== undefined) {
      params.set('limit', String(limit));
    }
    return this._json<ISearchResult>(`search?${params.toString()}`);
  }

  /**
   * `GET packages/{name}?source=`.
   */
  packageInfo(name: string, source?: SearchSource): Promise<IPackageInfo> {
    const query = source ? `?source=${encodeURIComponent(source)}` : '';
    return this._json<IPackageInfo>(
      `packages/${encodeURIComponent(name)}${query}`
    );
  }

  /**
   * `GET policy`: the administrator's policy, where each rule came from;
   * with `check`, also the environments that violate it.
   */
  policy(check = false): Promise<IPolicyAnswer> {
    return this._json<IPolicyAnswer>(check ? 'policy?check=true' : 'policy');
  }

  /**
   * `GET jobs?env=`.
   */
  listJobs(env?: string): Promise<IJob[]> {
    const query = env ? `?env=${encodeURIComponent(env)}` : '';
    return this._json<IJob[]>(`jobs${query}`);
  }

  /**
   * `GET jobs/{id}`.
   */
  getJob(id: string): Promise<IJob> {
    return this._json<IJob>(`jobs/${encodeURIComponent(id)}`);
  }

  /**
   * `DELETE jobs/{id}`: ask a job to stop at its next safe point.
   */
  cancelJob(id: string): Promise<IJob> {
    return this._json<IJob>(`jobs/${encodeURIComponent(id)}`, {
      method: 'DELETE'
    });
  }

  private _json<T>(endPoint: string, init: RequestInit = {}): Promise<T> {
    return requestAPI<T>(
      endPoint,
      { method: init.method, body: init.body },
      this._settings
    );
  }

  private async _cached<T>(endPoint: string): Promise<T> {
    const known = this._etags.get(endPoint);
    const headers: Record<string, string> = known
      ? { 'If-None-Match': known.etag }
      : {};
    const raw = await requestRaw(endPoint, { headers }, this._settings);
    if (raw.status === 304 && known) {
      return known.body as T;
    }
    const body = parseJSON<T>(raw.text, raw.status);
    const etag = raw.headers.get('ETag');
    if (etag) {
      this._etags.set(endPoint, { etag, body });
    } else {
      this._etags.delete(endPoint);
    }
    return body;
  }

  private _settings: ServerConnection.ISettings | undefined;
  private _etags = new Map<string, { etag: string; body: unknown }>();
}

/**
 * The API path of an environment.
 */
function envPath(env: string): string {
  return `envs/${encodeURIComponent(env)}`;
}

function post(body: object): RequestInit {
  return { method: 'POST', body: JSON.stringify(body) };
}

/**
 * The file name the server gives an export, should its header be missing.
 */
export function defaultFileName(env: string, format: ExportFormat): string {
  const names: Record<ExportFormat, string> = {
    requirements: 'requirements.txt',
    environment: 'environment.yml',
    lock: 'lock.toml'
  };
  return `${env}-${names[format]}`;
}
