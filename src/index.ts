import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';

import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { packageIcon } from './icons';

import { UserPkgPanel } from './panel';

/**
 * Identifier of the jupyter-userpkg main plugin.
 */
const PLUGIN_ID = 'jupyter-userpkg:plugin';

/**
 * Adds the "Packages" panel to the left sidebar.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'User-level package management for Jupyter.',
  autoStart: true,
  optional: [ITranslator, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null
  ): void => {
    const trans = (translator ?? nullTranslator).load('jupyter_userpkg');

    const panel = new UserPkgPanel(trans);
    panel.title.icon = packageIcon;
    app.shell.add(panel, 'left', { rank: 1000 });
    if (restorer) {
      restorer.add(panel, panel.id);
    }

    void panel.refresh();
    console.log(`JupyterLab extension ${PLUGIN_ID} is activated!`);
  }
};

export default plugin;
