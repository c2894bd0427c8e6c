import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import {
  Dialog,
  ICommandPalette,
  InputDialog,
  Notification,
  showDialog
} from '@jupyterlab/apputils';

import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

import type { Session } from '@jupyterlab/services';

import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';

import * as React from 'react';

import { splitList } from './components/CreateForm';

import { PolicyView } from './components/PolicyView';

import { downloadFile } from './download';

import { packageIcon } from './icons';

import { ImportOfferTracker, panelOfferActions } from './importoffer';

import { KernelFollower } from './kernels';

import { trackNotebookEnvs } from './notebookenvtracker';

import { launcherPlugin } from './launcher';

import { UserPkgModel } from './model';

import { appliedMessage } from './outcome';

import { UserPkgService } from './service';

import { ExportFormat } from './tokens';

import { IPanelActions, UserPkgPanel } from './widget';

/**
 * Identifier of the jupyter-userpkg main plugin.
 */
const PLUGIN_ID = 'jupyter-userpkg:plugin';

/**
 * The commands of the Packages panel.
 */
export namespace CommandIDs {
  export const open = 'userpkg:open';
  export const createEnv = 'userpkg:create-env';
  export const refresh = 'userpkg:refresh';
  export const install = 'userpkg:install';
  export const exportEnv = 'userpkg:export';
  export const policy = 'userpkg:policy';
}

/**
 * Adds the Packages panel to the left sidebar, its commands to the palette
 * and an entry to the notebook's context menu.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'User-level package environments: the Packages panel.',
  autoStart: true,
  optional: [
    ITranslator,
    ILayoutRestorer,
    ICommandPalette,
    INotebookTracker,
    ILabShell
  ],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    notebooks: INotebookTracker | null,
    labShell: ILabShell | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyter_userpkg');
    const model = new UserPkgModel(new UserPkgService());
    const panel = new UserPkgPanel(model, trans, panelActions(app, trans, model));
    panel.title.icon = packageIcon;
    app.shell.add(panel, 'left', { rank: 1000 });
    restorer?.add(panel, panel.id);

    app.serviceManager.events.stream.connect((_, event) =>
      model.handleEvent(event)
    );
    model.applied.connect((_, applied) => {
      const actions =
        applied.job.verb === 'delete'
          ? []
          : [
              {
                label: trans.__('History'),
                caption: trans.__('Show the history of %1', applied.job.env),
                callback: () => {
                  app.shell.activateById(panel.id);
                  void model.select(applied.job.env).then(() => model.setTab('history'));
                }
              }
            ];
      Notification.success(appliedMessage(trans, applied), {
        autoClose: 6000,
        actions
      });
    });

    const follower = new KernelFollower(model);
    if (notebooks) {
      notebooks.currentChanged.connect(() =>
        follower.watch(notebooks.currentWidget)
      );
      follower.watch(notebooks.currentWidget);
    } else if (labShell) {
      labShell.currentChanged.connect(() =>
        follower.watch(labShell.currentWidget)
      );
    }

    addCommands(app, model, panel, trans, notebooks);
    if (notebooks) {
      new ImportOfferTracker(notebooks, trans, panelOfferActions(app, panel.id, model));
      trackNotebookEnvs(app, notebooks, model, trans);
    }
    const category = trans.__('Packages');
    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category });
    }
    app.contextMenu.addItem({
      command: CommandIDs.open,
      args: { notebook: true },
      selector: '.jp-Notebook',
      rank: 100
    });

    void model.refresh();
  }
};

/**
 * A new notebook on ``kernelName``.  A new env's kernelspec is not among those
 * the page loaded: they are fetched first, and should the new notebook still
 * have started without that kernel, it is switched to it.
 */
async function openNotebook(app: JupyterFrontEnd, kernelName: string): Promise<void> {
  await app.serviceManager.kernelspecs.refreshSpecs();
  const widget = (await app.commands.execute('notebook:create-new', {
    kernelName
  })) as NotebookPanel | undefined;
  const context = widget?.sessionContext;
  if (!context) {
    return;
  }
  await context.ready;
  if (context.session?.kernel?.name !== kernelName) {
    await context.changeKernel({ name: kernelName });
  }
}

/**
 * The notebooks and consoles whose kernel is `kernel` (a kernelspec name).
 */
async function sessionsOn(
  app: JupyterFrontEnd,
  kernel: string
): Promise<Session.IModel[]> {
  const sessions = app.serviceManager.sessions;
  await sessions.refreshRunning();
  const wanted = kernel.toLowerCase();
  return Array.from(sessions.running()).filter(
    s => s.kernel?.name.toLowerCase() === wanted
  );
}

/**
 * Ask before deleting an env; name the notebooks and consoles running on its
 * kernel, which are shut down first. Cancel has the focus.
 */
async function confirmDelete(
  app: JupyterFrontEnd,
  trans: TranslationBundle,
  model: UserPkgModel,
  env: string
): Promise<boolean> {
  const kernel = model.envs.find(e => e.name === env)?.kernel ?? null;
  const running = kernel ? await sessionsOn(app, kernel) : [];
  const gone = trans.__(
    'The environment %1 and its kernel are removed, with its packages and history. This cannot be undone.',
    env
  );
  const body =
    running.length === 0
      ? gone
      : `${gone} ${trans._n(
          'Its kernel runs %2; that kernel is shut down first.',
          'Its kernel runs %2; those kernels are shut down first.',
          running.length,
          running.map(s => s.path || s.name).join(', ')
        )}`;
  const result = await showDialog({
    title: trans.__('Delete environment %1?', env),
    body,
    buttons: [
      Dialog.cancelButton({ label: trans.__('Cancel') }),
      Dialog.warnButton({ label: trans.__('Delete') })
    ],
    defaultButton: 0
  });
  if (!result.button.accept) {
    return false;
  }
  for (const session of running) {
    await app.serviceManager.sessions.shutdown(session.id);
  }
  return true;
}

function panelActions(
  app: JupyterFrontEnd,
  trans: TranslationBundle,
  model: UserPkgModel
): IPanelActions {
  return {
    confirmDelete: (env: string) => confirmDelete(app, trans, model, env),
    openNotebook: (kernelName: string) => void openNotebook(app, kernelName),
    openConsole: (kernel: string) =>
      void app.serviceManager.kernelspecs.refreshSpecs().then(() =>
        app.commands.execute('console:create', {
          kernelPreference: { name: kernel }
        })
      ),
    download: downloadFile,
    changeKernel: () => void app.commands.execute('notebook:change-kernel'),
    showPolicy: answer =>
      void showDialog({
        title: trans.__("The administrator's policy"),
        body: React.createElement(PolicyView, { trans, answer }),
        buttons: [Dialog.okButton({ label: trans.__('Close') })]
      })
  };
}

function addCommands(
  app: JupyterFrontEnd,
  model: UserPkgModel,
  panel: UserPkgPanel,
  trans: TranslationBundle,
  notebooks: INotebookTracker | null
): void {
  const show = () => app.shell.activateById(panel.id);
  app.commands.addCommand(CommandIDs.open, {
    label: args =>
      args.notebook
        ? trans.__("Packages of this notebook's environment")
        : trans.__('Open the Packages panel'),
    caption: trans.__('Environments and their packages'),
    icon: args => (args.notebook ? packageIcon : undefined),
    execute: async args => {
      show();
      const kernel = notebooks?.currentWidget?.sessionContext.session?.kernel;
      if (args.notebook && kernel) {
        await model.select(model.envForKernel(kernel.name));
      } else if (typeof args.env === 'string') {
        await model.select(args.env);
      }
    }
  });
  app.commands.addCommand(CommandIDs.createEnv, {
    label: trans.__('Create an environment'),
    icon: args => (args.isPalette ? undefined : packageIcon),
    execute: () => {
      show();
      model.setCreateOpen(true);
    }
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh environments and packages'),
    execute: () => model.refresh()
  });
  app.commands.addCommand(CommandIDs.install, {
    label: trans.__('Install packages…'),
    execute: async args => {
      let specs = Array.isArray(args.specs)
        ? (args.specs as string[])
        : splitList(String(args.specs ?? ''), false);
      if (specs.length === 0) {
        const answer = await InputDialog.getText({
          title: trans.__('Install into %1', model.selected),
          label: trans.__('Packages (separated by blanks), e.g. numpy pandas<3'),
          okLabel: trans.__('Plan')
        });
        specs = splitList(answer.button.accept ? answer.value ?? '' : '', false);
      }
      if (specs.length === 0) {
        return;
      }
      show();
      await model.planChange({ install: specs });
    }
  });
  app.commands.addCommand(CommandIDs.policy, {
    label: trans.__("Show the administrator's policy"),
    execute: () => panel.showPolicy()
  });
  app.commands.addCommand(CommandIDs.exportEnv, {
    label: trans.__('Export the environment…'),
    execute: async args => {
      const formats: ExportFormat[] = ['requirements', 'environment', 'lock'];
      let format = args.format as ExportFormat | undefined;
      if (!format || !formats.includes(format)) {
        const answer = await InputDialog.getItem({
          title: trans.__('Export %1 as', model.selected),
          items: formats,
          // The first format the env's kind writes.
          current: Math.max(
            0,
            formats.findIndex(f => model.selectedKind?.exports.includes(f) ?? true)
          ),
          okLabel: trans.__('Download')
        });
        if (!answer.button.accept || !answer.value) {
          return;
        }
        format = answer.value as ExportFormat;
      }
      await panel.exportEnv(format);
    }
  });
}

export default [plugin, launcherPlugin];
