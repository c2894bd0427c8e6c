/**
 * A request the server refuses shows the server's message in the panel.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  envSelect,
  errorMessage,
  installWithCommand,
  JOB_TIMEOUT,
  openPanel,
  openTab,
  packageRow,
  snapshot,
  submitCreateForm
} from './userpkg';

const ENV = 'refusals';
const MISSING = 'no-such-package-xyz-123';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('an invalid environment name is refused with its message', async ({ page }) => {
  const panel = await openPanel(page);
  await submitCreateForm(panel, { name: 'not a name!', kind: 'venv' });
  // The server's answer (400 invalid_env_name), or the same rule checked in
  // the form: either way in the panel's error element, saying what a name is.
  const message = errorMessage(panel);
  await expect(message).toBeVisible();
  await expect(message).toContainText(/name/i);
  await expect(message).toContainText(/letters, digits/);
  await expect(envSelect(panel).locator('option[value="not a name!"]')).toHaveCount(0);
});

test('installing a package that does not exist names it', async ({ page }, testInfo) => {
  const panel = await openPanel(page);
  await createEnv(panel, { name: ENV, kind: 'venv' });
  await installWithCommand(page, panel, MISSING);
  const message = errorMessage(panel);
  await expect(message).toBeVisible({ timeout: JOB_TIMEOUT });
  await expect(message).toContainText(MISSING);
  await snapshot(page, testInfo, panel, 'error');
  await openTab(panel, 'packages');
  await expect(packageRow(panel, MISSING)).toHaveCount(0);
});
