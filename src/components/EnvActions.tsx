import { TranslationBundle } from '@jupyterlab/translation';

import { Button, consoleIcon, notebookIcon } from '@jupyterlab/ui-components';

import * as React from 'react';

import { ExportFormat, IEnv, IKind } from '../tokens';

import { ExportMenu } from './ExportMenu';

/**
 * Properties of the env actions.
 */
export interface IEnvActionsProps {
  trans: TranslationBundle;
  env: IEnv | null;
  /** What the env's kind can do: the export formats it writes (`exports`). */
  kind: IKind | null;
  onExport: (format: ExportFormat) => void;
  onOpenNotebook: (kernel: string) => void;
  onOpenConsole: (kernel: string) => void;
}

/**
 * Export the env as a file; open a notebook or a console on its kernel.
 */
export function EnvActions(props: IEnvActionsProps): JSX.Element {
  const { trans, env, kind } = props;
  const kernel = env?.kernel ?? null;
  const usable = env !== null && env.kind !== 'broken';
  const formats: Array<{ format: ExportFormat; label: string }> = [
    { format: 'requirements', label: 'requirements.txt' },
    { format: 'environment', label: 'environment.yml' },
    { format: 'lock', label: trans.__('lock') }
  ];
  const noKernel = trans.__('This environment has no kernel.');
  return (
    <div className="jp-userpkg-env-actions jp-userpkg-toolbar">
      <ExportMenu
        trans={trans}
        disabled={!usable}
        onExport={props.onExport}
        choices={formats.map(({ format, label }) => ({
          format,
          label,
          refused:
            !!kind && !kind.exports.includes(format)
              ? trans.__(
                  'A %1 environment cannot be exported as %2.',
                  kind.name,
                  label
                )
              : null
        }))}
      />
      <Button
        className="jp-userpkg-open-notebook"
        small
        disabled={kernel === null}
        title={
          kernel === null
            ? noKernel
            : trans.__('Open a notebook on the kernel %1', kernel)
        }
        onClick={() => kernel && props.onOpenNotebook(kernel)}
      >
        <notebookIcon.react tag="span" /> {trans.__('Notebook')}
      </Button>
      <Button
        className="jp-userpkg-open-console"
        small
        disabled={kernel === null}
        title={
          kernel === null
            ? noKernel
            : trans.__('Open a console on the kernel %1', kernel)
        }
        onClick={() => kernel && props.onOpenConsole(kernel)}
      >
        <consoleIcon.react tag="span" /> {trans.__('Console')}
      </Button>
    </div>
  );
}
