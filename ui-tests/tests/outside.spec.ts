/**
 * Changes made outside the panel show up in it without a reload: here the
 * CLI, run in a terminal with the server's settings, installs a package into
 * an environment the panel shows, and the server's environment events tell
 * the panel.
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  openPanel,
  openTab,
  packageRow,
  showAllPackages
} from './userpkg';

const ENV = 'outside';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

/**
 * `jupyter userpkg ARGS` as a user of the main test server runs it in a
 * terminal: the same Jupyter config path, data dir, envs dir and uv settings.
 */
function cli(...args: string[]): string {
  const root = path.join(process.env.USERPKG_UI_RUN_DIR ?? '', 'main');
  return execFileSync('jupyter-userpkg', args, {
    encoding: 'utf-8',
    timeout: 300 * 1000,
    env: {
      ...process.env,
      JUPYTER_CONFIG_PATH: path.join(root, 'config'),
      JUPYTER_DATA_DIR: path.join(root, 'data'),
      JUPYTER_USERPKG_ENVS_DIR: path.join(root, 'envs'),
      XDG_CONFIG_HOME: path.join(root, 'xdg-config')
    }
  });
}

test('a package installed by the CLI appears in the table', async ({ page }) => {
  const panel = await openPanel(page);
  await createEnv(panel, { name: ENV, kind: 'venv' });
  await openTab(panel, 'packages');
  await expect(packageRow(panel, 'ipykernel')).toBeVisible();
  await expect(packageRow(panel, 'python-slugify')).toHaveCount(0);

  // A reload would lose this mark.
  await page.evaluate(() => {
    (window as any).userpkgNoReload = true;
  });

  const output = cli('install', '-n', ENV, 'python-slugify', '-y');
  expect(output).toContain('python-slugify');

  await expect(packageRow(panel, 'python-slugify')).toBeVisible({ timeout: 30 * 1000 });
  await showAllPackages(panel);
  await expect(packageRow(panel, 'text-unidecode')).toBeVisible();
  expect(await page.evaluate(() => (window as any).userpkgNoReload)).toBe(true);
});
