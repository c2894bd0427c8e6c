import { TranslationBundle } from '@jupyterlab/translation';

import { Button, closeIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { readableMessage, remedy } from '../remedies';

import { IError, POLICY_DENIED } from '../tokens';

import { keepWords, useTakeFocus } from './controls';

/**
 * Properties of the error view.
 */
export interface IErrorViewProps {
  trans: TranslationBundle;
  error: IError;
  onDismiss: () => void;
  /** Show the administrator's policy (offered with a policy refusal). */
  onShowPolicy?: () => void;
  /** Whether the error takes the focus when it shows (default: it does). */
  takeFocus?: boolean;
}

/**
 * An error in one line, with its longer explanation (the solver's) folded
 * underneath. A refusal of the administrator's policy says so, with the rule
 * and the way to the policy.
 */
export function ErrorView(props: IErrorViewProps): JSX.Element {
  const { trans, error } = props;
  const policy = error.code === POLICY_DENIED;
  // A cancel the user asked for is news, not a failure.
  const cancelled = error.code === 'cancelled';
  const { ref, onKeyDown } = useTakeFocus<HTMLDivElement>(
    props.onDismiss,
    props.takeFocus ?? true
  );
  const next = remedy(trans, error);
  const message = keepWords(readableMessage(error.message));
  return (
    <div
      ref={ref}
      className={
        'jp-userpkg-error' +
        (policy ? ' jp-mod-policy' : '') +
        (cancelled ? ' jp-mod-cancelled' : '')
      }
      role={cancelled ? 'status' : 'alert'}
      data-code={error.code}
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      <div className="jp-userpkg-header-row">
        {policy ? (
          <div className="jp-userpkg-error-text">
            <p className="jp-userpkg-error-title">
              {trans.__("Refused by the administrator's policy")}
            </p>
            <p className="jp-userpkg-error-message">{message}</p>
          </div>
        ) : (
          <p className="jp-userpkg-error-message">{message}</p>
        )}
        <Button
          minimal
          small
          className="jp-userpkg-error-dismiss"
          aria-label={trans.__('Dismiss')}
          title={trans.__('Dismiss')}
          onClick={props.onDismiss}
        >
          <closeIcon.react tag="span" />
        </Button>
      </div>
      {next && <p className="jp-userpkg-error-remedy">{keepWords(next)}</p>}
      {error.details && !policy && (
        <details className="jp-userpkg-error-details">
          <summary>{trans.__('Why')}</summary>
          <pre>{error.details}</pre>
        </details>
      )}
      {policy && (error.details || props.onShowPolicy) && (
        <div className="jp-userpkg-toolbar jp-userpkg-error-policy">
          {error.details && (
            <span className="jp-userpkg-error-rule">
              {keepWords(trans.__('Rule: %1', error.details))}
            </span>
          )}
          {props.onShowPolicy && (
            <Button
              className="jp-userpkg-error-show-policy"
              minimal
              small
              onClick={props.onShowPolicy}
            >
              {trans.__('Show the policy')}
            </Button>
          )}
        </div>
      )}
    </div>
  );
}
