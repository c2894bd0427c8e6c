/**
 * Changes made outside the panel show up in it without a reload: here the
 * CLI, run from a notebook cell, installs a package into the notebook's own
 * environment, and the server's environment events tell the panel.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  openPanel,
  openTab,
  packageRow
} from './userpkg';

const ENV = 'outside';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('a package installed by the CLI in a cell appears in the table', async ({ page }) => {
  const panel = await openPanel(page);
  await createEnv(panel, { name: ENV, kind: 'venv' });
  await openTab(panel, 'packages');
  await expect(packageRow(panel, 'ipykernel')).toBeVisible();
  await expect(packageRow(panel, 'python-slugify')).toHaveCount(0);

  // A reload would lose this mark.
  await page.evaluate(() => {
    (window as any).userpkgNoReload = true;
  });

  await panel.locator('button.jp-userpkg-open-notebook').click();
  await expect(page.locator('.jp-NotebookPanel .jp-KernelName').first()).toContainText(ENV, {
    timeout: 60 * 1000
  });
  await page.notebook.setCell(0, 'code', `!jupyter userpkg install -n ${ENV} python-slugify -y`);
  await page.notebook.runCell(0, true);
  const output = ((await page.notebook.getCellTextOutput(0)) ?? []).join('\n');
  expect(output).toContain('python-slugify');

  await expect(packageRow(panel, 'python-slugify')).toBeVisible({ timeout: 30 * 1000 });
  await expect(packageRow(panel, 'text-unidecode')).toBeVisible();
  expect(await page.evaluate(() => (window as any).userpkgNoReload)).toBe(true);
  await page.notebook.close(true);
});
