import { URLExt } from '@jupyterlab/coreutils';

import { ServerConnection } from '@jupyterlab/services';

import { IError } from './tokens';

/**
 * Path prefix of the jupyter-userpkg REST API, relative to the server base URL.
 */
export const API_NAMESPACE = 'userpkg/api';

/**
 * An error answered by the server (or a network failure), in words.
 *
 * `code` is the server's machine code (`env_not_found`, `unsatisfiable`, ...),
 * `details` its longer explanation (the solver's, for `unsatisfiable`).
 */
export class UserPkgError extends Error implements IError {
  constructor(
    message: string,
    options: { code?: string; details?: string | null; status?: number } = {}
  ) {
    super(message);
    this.name = 'UserPkgError';
    this.code = options.code ?? 'error';
    this.details = options.details ?? null;
    this.status = options.status ?? 0;
  }

  /**
   * The error as the plain `{code, message, details}` shape.
   */
  toJSON(): IError {
    return { code: this.code, message: this.message, details: this.details };
  }

  readonly code: string;
  readonly details: string | null;
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
}

/**
 * Any thrown value as an `IError`.
 */
export function asError(reason: unknown): IError {
  if (reason instanceof UserPkgError) {
    return reason.toJSON();
  }
  if (reason instanceof Error) {
    return { code: 'error', message: reason.message, details: null };
  }
  return { code: 'error', message: String(reason), details: null };
}

/**
 * Request options: those of `fetch`, with headers as a plain object.
 */
export type IRequestInit = Omit<RequestInit, 'headers'> & {
  headers?: Record<string, string>;
};

/**
 * A raw answer of the API: its status, headers and body text.
 */
export interface IRawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Send a request to the API and answer its status, headers and text.
 *
 * A status that is neither 2xx nor 304 throws a `UserPkgError` carrying the
 * server's `code`, `message` and `details`.
 */
export async function requestRaw(
  endPoint: string,
  init: IRequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IRawResponse> {
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endPoint);
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.body !== undefined && !('Content-Type' in headers)) {
    headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(
      url,
      { ...init, headers },
      settings
    );
  } catch (reason) {
    const why = reason instanceof Error ? reason.message : String(reason);
    throw new UserPkgError(`The server cannot be reached: ${why}`, {
      code: 'network_error'
    });
  }
  const text = response.status === 304 ? '' : await response.text();
  if (!response.ok && response.status !== 304) {
    throw errorFromResponse(response.status, response.statusText, text);
  }
  return { status: response.status, headers: response.headers, text };
}

/**
 * Send a request and answer its JSON body.
 */
export async function requestAPI<T>(
  endPoint: string,
  init: IRequestInit = {},
  settings?: ServerConnection.ISettings
): Promise<T> {
  const raw = await requestRaw(endPoint, init, settings);
  return parseJSON<T>(raw.text, raw.status);
}

/**
 * Send a request and answer its body as text (exported files).
 */
export async function requestText(
  endPoint: string,
  init: IRequestInit = {},
  settings?: ServerConnection.ISettings
): Promise<IRawResponse> {
  return requestRaw(endPoint, init, settings);
}

/**
 * Parse a JSON body; a body that is not JSON is an error in words.
 */
export function parseJSON<T>(text: string, status = 200): T {
  if (text.length === 0) {
    return null as unknown as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UserPkgError('The server answered something that is not JSON.', {
      code: 'invalid_response',
      status
    });
  }
}

/**
 * The error a failed answer stands for.
 */
export function errorFromResponse(
  status: number,
  statusText: string,
  text: string
): UserPkgError {
  let body: Partial<IError> & { reason?: string | null } = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') {
      body = parsed as typeof body;
    }
  } catch {
    // Not JSON: a proxy's page, say. The status speaks instead.
  }
  const message =
    (typeof body.message === 'string' && body.message) ||
    (typeof body.reason === 'string' && body.reason) ||
    `${status} ${statusText || 'error'}`.trim();
  const code =
    (typeof body.code === 'string' && body.code) ||
    (typeof body.reason === 'string' && body.reason) ||
    `http_${status}`;
  const details = typeof body.details === 'string' ? body.details : null;
  return new UserPkgError(message, { code, details, status });
}
