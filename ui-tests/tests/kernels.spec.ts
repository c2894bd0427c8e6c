/**
 * A kernel an env's package ships (echo-kernel: its own language, `echo`),
 * from a channel the test server builds at start-up: it is in the launcher,
 * starts from it and runs a cell; the panel says `%userpkg` is Python only.
 */
import * as path from 'path';
import { pathToFileURL } from 'url';

import { expect, test } from '@jupyterlab/galata';

import { JOB_TIMEOUT, deleteEnvQuietly, openPanel } from './userpkg';

const ENV = 'echoenv';
const DISPLAY = `Echo (${ENV})`;

/** The main server's channel with echo-kernel (see jupyter_server_test_config.py). */
function echoChannel(): string {
  const runDir = process.env.USERPKG_UI_RUN_DIR ?? '';
  return pathToFileURL(path.join(runDir, 'main', 'echo-channel')).href;
}

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('a kernel an env ships: in the launcher, it starts and runs a cell', async ({
  page,
  request
}) => {
  test.setTimeout(JOB_TIMEOUT + 120 * 1000);
  const response = await request.post('userpkg/api/envs', {
    data: {
      name: ENV,
      kind: 'conda',
      channels: [echoChannel()],
      specs: ['python', 'echo-kernel']
    }
  });
  expect(response.status()).toBe(202);
  const job = await response.json();
  await expect
    .poll(
      async () => (await (await request.get(`userpkg/api/jobs/${job.id}`)).json()).state,
      { timeout: JOB_TIMEOUT, intervals: [500] }
    )
    .toBe('succeeded');

  await test.step('the launcher shows it (a recent env), as a notebook and a console', async () => {
    await page.goto();
    const cards = page.locator('.jp-LauncherCard', { hasText: DISPLAY });
    await expect(cards).toHaveCount(2, { timeout: 60 * 1000 });
  });

  await test.step('a notebook on it starts the kernel and runs a cell', async () => {
    await page
      .locator('.jp-Launcher-section', { hasText: 'Notebook' })
      .locator('.jp-LauncherCard', { hasText: DISPLAY })
      .click();
    await expect(page.locator('.jp-NotebookPanel .jp-KernelName').first()).toContainText(
      DISPLAY,
      { timeout: 60 * 1000 }
    );
    await page.notebook.setCell(0, 'code', 'hello');
    await page.notebook.runCell(0, true);
    const output = (await page.notebook.getCellTextOutput(0)) ?? [];
    expect(output.join('\n')).toContain('echo: hello');
  });

  await test.step('the panel manages its env and says %userpkg is Python only', async () => {
    const panel = await openPanel(page);
    await expect(panel.locator('.jp-userpkg-kernel-note')).toContainText(
      '%userpkg works in Python kernels only',
      { timeout: 30 * 1000 }
    );
    await expect(panel.locator('.jp-userpkg-kernel-note')).toContainText(ENV);
  });
});
