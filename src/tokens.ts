/**
 * Shapes of the replies sent by the jupyter_userpkg server extension.
 */

/**
 * Reply of `GET <baseUrl>/userpkg/api/health`.
 */
export interface IHealthReply {
  /**
   * Version of the jupyter_userpkg Python package serving the API.
   */
  version: string;

  /**
   * Any further fields the server chooses to send.
   */
  [key: string]: unknown;
}

/**
 * State of the health check shown by the panel.
 */
export interface IHealthState {
  /**
   * Whether a request is in flight.
   */
  loading: boolean;

  /**
   * Server version, once known.
   */
  version?: string;

  /**
   * Error message, if the request failed.
   */
  error?: string;
}
