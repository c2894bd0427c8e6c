import type { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import type { IEnvKernel } from '../tokens';

/**
 * Said where the active notebook runs a kernel of another language that an
 * env ships (R, Julia, C++...): `%userpkg` is a Python magic, and this panel
 * manages that env all the same.
 */
export function KernelNote(props: {
  trans: TranslationBundle;
  env: string | null;
  kernel: IEnvKernel | null;
}): JSX.Element | null {
  const { trans, env, kernel } = props;
  if (!env || !kernel || kernel.language.toLowerCase() === 'python') {
    return null;
  }
  return (
    <p className="jp-userpkg-kernel-note" role="note">
      {trans.__(
        '%userpkg works in Python kernels only; this notebook runs %1. Manage %2 here.',
        kernel.display_name,
        env
      )}
    </p>
  );
}
