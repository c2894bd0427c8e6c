import type {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, InputDialog } from '@jupyterlab/apputils';
import { ILauncher } from '@jupyterlab/launcher';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { requestAPI } from './request';
import type { IEnv } from './tokens';

/** The command that pins an env's kernels to the launcher, or unpins them. */
export const PIN_COMMAND = 'userpkg:pin-launcher';

/**
 * A launcher item as the notebook and console extensions add one per
 * kernelspec: `metadata.kernel` is the kernelspec's own metadata.
 */
type LauncherItem = ILauncher.IItemOptions;

/**
 * Whether the launcher shows an item: everything but the kernels of envs
 * the server leaves out of it (`metadata.userpkg.launcher` false: an env
 * neither pinned nor used or made lately). Those stay in the kernel picker
 * and the Packages panel.
 */
export function shownInLauncher(item: LauncherItem): boolean {
  const kernel = item.metadata?.kernel as
    | { userpkg?: { launcher?: unknown } }
    | undefined;
  return kernel?.userpkg?.launcher !== false;
}

/**
 * The launcher's model, as JupyterLab 4 provides it for `ILauncher`: its
 * items are read through `items()` every time a launcher renders.
 */
interface ILauncherModel {
  items(): IterableIterator<LauncherItem>;
}

function isModel(launcher: unknown): launcher is ILauncherModel {
  return (
    typeof launcher === 'object' &&
    launcher !== null &&
    typeof (launcher as ILauncherModel).items === 'function'
  );
}

/**
 * Keep the launcher to the items `shownInLauncher` keeps. JupyterLab has no
 * filter of its own for launcher items, so the model's `items()` is wrapped;
 * the items themselves stay as the notebook and console extensions added them.
 */
export function filterLauncher(launcher: unknown): boolean {
  if (!isModel(launcher)) {
    return false;
  }
  const all = launcher.items.bind(launcher);
  launcher.items = function* (): IterableIterator<LauncherItem> {
    for (const item of all()) {
      if (shownInLauncher(item)) {
        yield item;
      }
    }
  };
  return true;
}

/**
 * Ask which env to pin to the launcher (or unpin: the kernelspecs' metadata
 * says which are pinned), and tell the server (`PUT envs/{env}/launcher`); the
 * launcher shows it from the next listing of kernelspecs, read again at once.
 */
async function pinOrUnpin(app: JupyterFrontEnd, translator: ITranslator): Promise<void> {
  const trans = translator.load('jupyter_userpkg');
  const envs = await requestAPI<IEnv[]>('envs');
  const specs = app.serviceManager.kernelspecs.specs?.kernelspecs ?? {};
  const pinnedOf = (env: IEnv) =>
    (env.kernels ?? []).some(k => {
      const meta = specs[k.name]?.metadata as { userpkg?: { pinned?: unknown } } | undefined;
      return meta?.userpkg?.pinned === true;
    });
  const withKernels = envs.filter(env => (env.kernels ?? []).length > 0);
  const pinned = withKernels.map(pinnedOf);
  const items = withKernels.map((env, i) =>
    pinned[i] ? trans.__('%1 (pinned: unpin)', env.name) : env.name
  );
  const answer = await InputDialog.getItem({
    title: trans.__('Pin an environment to the launcher'),
    items,
    okLabel: trans.__('Pin or unpin')
  });
  const index = answer.button.accept ? items.indexOf(answer.value ?? '') : -1;
  if (index < 0) {
    return;
  }
  const env = withKernels[index].name;
  await requestAPI(`envs/${encodeURIComponent(env)}/launcher`, {
    method: 'PUT',
    body: JSON.stringify({ pinned: !pinned[index] })
  });
  await app.serviceManager.kernelspecs.refreshSpecs();
}

/**
 * The plugin: with 300 envs the launcher would show 600 cards; it shows the
 * envs' kernels the server marks for it, and a command pins an env to it.
 */
export const launcherPlugin: JupyterFrontEndPlugin<void> = {
  id: 'jupyter-userpkg:launcher',
  description:
    "Keeps the launcher to the environments' kernels pinned or used lately.",
  autoStart: true,
  optional: [ILauncher, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    launcher: ILauncher | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ): void => {
    if (!launcher) {
      return;
    }
    filterLauncher(launcher);
    const tr = translator ?? nullTranslator;
    const trans = tr.load('jupyter_userpkg');
    app.commands.addCommand(PIN_COMMAND, {
      label: trans.__('Pin an environment to the launcher…'),
      execute: () => pinOrUnpin(app, tr)
    });
    palette?.addItem({ command: PIN_COMMAND, category: trans.__('Packages') });
  }
};
