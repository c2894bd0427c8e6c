/**
 * A conda environment from the channel the test server is configured with
 * (a small local channel built when the server starts).
 */
import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  openPanel,
  openTab,
  packageRow,
  showAllPackages,
  snapshot
} from './userpkg';

const ENV = 'condabar';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('a conda environment with bar: bar in the table with its channel', async ({
  page,
  request
}, testInfo) => {
  const panel = await openPanel(page);
  await createEnv(panel, { name: ENV, kind: 'conda', specs: 'bar' });
  await expect(panel.locator('.jp-userpkg-env-summary')).toContainText('conda');
  await openTab(panel, 'packages');

  const packages = await (await request.get(`userpkg/api/envs/${ENV}/packages`)).json();
  const bar = packages.find((p: { name: string }) => p.name === 'bar');
  expect(bar?.channel, 'the server names the channel of bar').toBeTruthy();

  const row = packageRow(panel, 'bar');
  await expect(row).toBeVisible();
  await expect(row).toContainText(bar.version);
  await expect(row).toContainText(bar.channel.replace(/\/$/, '').split('/').pop());
  // bar's dependency is not listed until asked for, then listed apart.
  await expect(packageRow(panel, 'libfoo')).toHaveCount(0);
  await showAllPackages(panel);
  await expect(packageRow(panel, 'libfoo')).toBeVisible();
  await expect(packageRow(panel, 'libfoo')).toHaveAttribute('data-requested', 'false');
  await snapshot(page, testInfo, panel, 'conda-packages');
});
