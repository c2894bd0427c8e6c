import type { ISessionContext } from '@jupyterlab/apputils';

import type { UserPkgModel } from './model';

/**
 * Something with a session, as a notebook panel or a console panel.
 */
export interface IHasSession {
  sessionContext: ISessionContext;
}

/**
 * Whether a widget has a session context.
 */
export function hasSession(widget: unknown): widget is IHasSession {
  return (
    typeof widget === 'object' &&
    widget !== null &&
    'sessionContext' in widget &&
    typeof (widget as IHasSession).sessionContext === 'object'
  );
}

/**
 * Keeps the model told which kernel the active notebook uses.
 *
 * `watch` is called with the active notebook (or console), or null; the
 * model hears of it again whenever that notebook's kernel changes.
 */
export class KernelFollower {
  constructor(model: UserPkgModel) {
    this._model = model;
  }

  /**
   * Follow the kernel of `widget` from now on.
   */
  watch(widget: unknown): void {
    const context = hasSession(widget) ? widget.sessionContext : null;
    if (context === this._context) {
      return;
    }
    if (this._context) {
      this._context.kernelChanged.disconnect(this._update, this);
      this._context.statusChanged.disconnect(this._update, this);
    }
    this._context = context;
    if (context) {
      context.kernelChanged.connect(this._update, this);
      context.statusChanged.connect(this._update, this);
    }
    this._update();
  }

  private _update(): void {
    const context = this._context;
    if (!context || context.isDisposed) {
      this._model.setActiveKernel(null);
      return;
    }
    const kernel = context.session?.kernel ?? null;
    const name = kernel?.name ?? null;
    const known = this._model.activeKernel;
    if (known && known.name === name && known.connection === kernel) {
      return;
    }
    this._model.setActiveKernel({
      name,
      connection: kernel,
      restart: async () => {
        await context.restartKernel();
      }
    });
  }

  private _model: UserPkgModel;
  private _context: ISessionContext | null = null;
}
