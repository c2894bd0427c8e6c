import { TranslationBundle } from '@jupyterlab/translation';

import { Button, closeIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { IError } from '../tokens';

/**
 * Properties of the error view.
 */
export interface IErrorViewProps {
  trans: TranslationBundle;
  error: IError;
  onDismiss: () => void;
}

/**
 * An error in one line, with its longer explanation (the solver's) folded
 * underneath.
 */
export function ErrorView(props: IErrorViewProps): JSX.Element {
  const { trans, error } = props;
  return (
    <div className="jp-userpkg-error" role="alert" data-code={error.code}>
      <div className="jp-userpkg-header-row">
        <p className="jp-userpkg-error-message">{error.message}</p>
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
      {error.details && (
        <details className="jp-userpkg-error-details">
          <summary>{trans.__('Why')}</summary>
          <pre>{error.details}</pre>
        </details>
      )}
    </div>
  );
}
