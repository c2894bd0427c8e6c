import type { Kernel } from '@jupyterlab/services';

import type { IStaleModule } from './stale';

import { IChangeRequest, IPlan } from './tokens';

export type Tab = 'packages' | 'search' | 'history';

/**
 * A change or a rollback whose plan is shown, waiting to be applied.
 */
export type PendingChange =
  | { kind: 'change'; env: string; request: IChangeRequest; plan: IPlan }
  | { kind: 'rollback'; env: string; revision: number; plan: IPlan };

/**
 * The kernel of the active notebook (or console).
 */
export interface IActiveKernel {
  /** Its kernelspec name; null for a notebook without a kernel. */
  name: string | null;
  /** Its connection, to ask it which modules it imported. */
  connection: Kernel.IKernelConnection | null;
  /** Restart it. */
  restart?: () => Promise<void>;
}

/**
 * Modules the active kernel had imported that a change replaced.
 */
export interface IStaleNotice {
  env: string;
  modules: IStaleModule[];
}

/**
 * Kernel questions, replaceable in tests.
 */
export interface IKernelProbe {
  modules(kernel: Kernel.IKernelConnection): Promise<string[] | null>;
}
