/**
 * Cancelling an install while it runs leaves the environment as it was.
 *
 * This test runs against the second server (port 8889), which also serves a
 * local index whose package `userpkg-slow-demo` takes about half a minute to
 * download: the install is still running when the test presses cancel, on
 * every run.  Had it finished first, the package would be in the table and the
 * test would fail.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  errorMessage,
  installWithCommand,
  JOB_TIMEOUT,
  openPanel,
  openTab,
  packageRow,
  progress,
  snapshot,
  tableNames
} from './userpkg';

const ENV = 'slow';
const SLOW_PACKAGE = 'userpkg-slow-demo';

test.use({ baseURL: 'http://localhost:8889' });

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('cancel an install while it runs: the job ends cancelled, the table is unchanged', async ({
  page
}, testInfo) => {
  const panel = await openPanel(page);
  await createEnv(panel, { name: ENV, kind: 'venv' });
  await openTab(panel, 'packages');
  await expect(packageRow(panel, 'ipykernel')).toBeVisible();
  const before = await tableNames(panel);

  await installWithCommand(page, panel, SLOW_PACKAGE);

  const running = progress(panel);
  await expect(running).toBeVisible({ timeout: JOB_TIMEOUT });
  await expect(running.locator('progress')).toHaveCount(1);
  // The download has begun: the job is in the middle of its install.
  await expect(running.locator('.jp-userpkg-progress-message')).toContainText(
    /download/i,
    { timeout: 60 * 1000 }
  );
  await snapshot(page, testInfo, panel, 'progress', [running.locator('progress')]);

  await running.locator('button.jp-userpkg-cancel-job').click();
  await expect(running).toHaveCount(0, { timeout: JOB_TIMEOUT });
  await expect(errorMessage(panel)).toContainText(/cancel/i);
  await expect(packageRow(panel, SLOW_PACKAGE)).toHaveCount(0);
  expect(await tableNames(panel)).toEqual(before);

  // Still the revision it was created at.
  await openTab(panel, 'history');
  await expect(panel.locator('.jp-userpkg-history .jp-userpkg-revision')).toHaveCount(1);
});
