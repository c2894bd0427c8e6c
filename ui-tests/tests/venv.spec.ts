/**
 * A user's whole path with a venv environment: create it, find a package,
 * install it, use it in a notebook, look at the history, roll back, delete.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  createEnv,
  deleteEnvQuietly,
  envSelect,
  JOB_TIMEOUT,
  openPanel,
  openTab,
  packageRow,
  progressSeen,
  select,
  snapshot,
  watchProgress
} from './userpkg';

const ENV = 'demo';
/** A release PyPI will keep; the info's newest version changes over time. */
const TABULATE = '0.9.0';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('a venv environment: create, search, install, use, roll back, delete', async ({
  page,
  request
}, testInfo) => {
  const panel = await openPanel(page);
  const history = panel.locator('.jp-userpkg-history');
  const revisions = history.locator('.jp-userpkg-revision');
  const plan = panel.locator('.jp-userpkg-plan');

  await test.step('create a venv environment with the form', async () => {
    await watchProgress(page);
    await createEnv(panel, { name: ENV, kind: 'venv' });
    expect((await progressSeen(page)).progress, 'the create job showed its progress').toBe(
      true
    );
    await expect(envSelect(panel).locator(`option[value="${ENV}"]`)).toHaveCount(1);
    const summary = panel.locator('.jp-userpkg-env-summary');
    await expect(summary).toContainText('venv');
    await expect(summary).toContainText(`userpkg-${ENV}`);
    await openTab(panel, 'packages');
    await expect(packageRow(panel, 'ipykernel')).toBeVisible();
    await snapshot(page, testInfo, panel, 'env-list');
  });

  await test.step('search "tabulate": results as you type, then its info', async () => {
    await openTab(panel, 'search');
    const search = panel.locator('input.jp-userpkg-search');
    await search.pressSequentially('tabulate', { delay: 60 });
    // No Enter: the results come while typing.
    const result = panel.locator(
      '.jp-userpkg-search-results .jp-userpkg-search-result[data-package="tabulate"][data-source="pypi"]'
    );
    await expect(result).toBeVisible({ timeout: 60 * 1000 });
    await result.click();
    const info = panel.locator('.jp-userpkg-package-info');
    await expect(info).toBeVisible();
    await expect(info).toContainText('tabulate');
    await expect(info).toContainText('tabular data'); // "Pretty-print tabular data"
    const versions = select(info, 'jp-userpkg-version-select');
    await expect(versions.locator(`option[value="${TABULATE}"]`)).toHaveCount(1);
    await versions.selectOption(TABULATE);
    await expect(info.locator('button.jp-userpkg-install-button')).toBeVisible();
    // The hits change as projects come to PyPI, the details with tabulate's
    // next release: the snapshot hides both.
    await snapshot(page, testInfo, panel, 'search-info', [
      panel.locator('.jp-userpkg-search-results'),
      info.locator('dl')
    ]);
  });

  await test.step('preview the install plan: it lists tabulate', async () => {
    await panel.locator('.jp-userpkg-package-info button.jp-userpkg-install-button').click();
    await expect(plan).toBeVisible({ timeout: JOB_TIMEOUT });
    const change = plan.locator(
      '.jp-userpkg-plan-change[data-package="tabulate"][data-action="add"]'
    );
    await expect(change).toBeVisible();
    await expect(change).toContainText(TABULATE);
    await expect(plan.locator('.jp-userpkg-plan-download')).toBeVisible();
    await snapshot(page, testInfo, panel, 'plan', [
      panel.locator('.jp-userpkg-search-results')
    ]);
  });

  await test.step('apply: progress while the job runs, then tabulate in the table', async () => {
    await watchProgress(page);
    await plan.locator('button.jp-userpkg-apply').click();
    await openTab(panel, 'packages');
    const row = packageRow(panel, 'tabulate');
    await expect(row).toBeVisible({ timeout: JOB_TIMEOUT });
    await expect(row).toContainText(TABULATE);
    const seen = await progressSeen(page);
    expect(seen.progress, 'the install showed its progress').toBe(true);
    expect(seen.bar, 'the progress has a <progress> element').toBe(true);
    expect(seen.messages.length, 'the progress said what it did').toBeGreaterThan(0);
    await expect(panel.locator('.jp-userpkg-progress')).toHaveCount(0, {
      timeout: JOB_TIMEOUT
    });
    await expect(panel.locator('.jp-userpkg-error')).toHaveCount(0);
    await snapshot(page, testInfo, panel, 'packages-table');
  });

  await test.step('open a notebook on the environment: import tabulate works', async () => {
    await panel.locator('button.jp-userpkg-open-notebook').click();
    await expect(page.locator('.jp-NotebookPanel')).toHaveCount(1, { timeout: 60 * 1000 });
    await expect(page.locator('.jp-NotebookPanel .jp-KernelName').first()).toContainText(
      ENV,
      { timeout: 60 * 1000 }
    );
    await page.notebook.setCell(0, 'code', 'import tabulate\nprint(tabulate.__version__)');
    await page.notebook.runCell(0, true);
    const output = (await page.notebook.getCellTextOutput(0)) ?? [];
    expect(output.join('\n')).toContain(TABULATE);
    const cell = await page.notebook.getCellLocator(0);
    await expect(
      cell!.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]')
    ).toHaveCount(0);
  });

  await test.step('the panel says which environment the notebook uses', async () => {
    await expect(panel.locator('.jp-userpkg-current-env')).toContainText(ENV, {
      timeout: 30 * 1000
    });
  });

  await test.step('history shows two revisions', async () => {
    await openTab(panel, 'history');
    await expect(revisions).toHaveCount(2, { timeout: 30 * 1000 });
    await expect(history.locator('.jp-userpkg-revision[data-revision="0"]')).toBeVisible();
    await expect(history.locator('.jp-userpkg-revision[data-revision="1"]')).toContainText(
      'tabulate'
    );
    await snapshot(page, testInfo, panel, 'history', [
      history.locator('time, .jp-userpkg-revision-time')
    ]);
  });

  await test.step('roll back to revision 0: tabulate is gone', async () => {
    await history
      .locator('.jp-userpkg-revision[data-revision="0"] button.jp-userpkg-rollback-button')
      .click();
    await expect(plan).toBeVisible({ timeout: JOB_TIMEOUT });
    await expect(
      plan.locator('.jp-userpkg-plan-change[data-package="tabulate"][data-action="remove"]')
    ).toBeVisible();
    await plan.locator('button.jp-userpkg-apply').click();
    await expect(revisions).toHaveCount(3, { timeout: JOB_TIMEOUT });
    await openTab(panel, 'packages');
    await expect(packageRow(panel, 'ipykernel')).toBeVisible();
    await expect(packageRow(panel, 'tabulate')).toHaveCount(0, { timeout: JOB_TIMEOUT });
  });

  await test.step('delete the environment: the dialog names the notebook on its kernel', async () => {
    // The notebook's tab closes; its kernel keeps running.
    await page.notebook.close(true);
    await panel.locator('button.jp-userpkg-delete-button').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText(ENV);
    await expect(dialog).toContainText(/\.ipynb; that kernel is shut down first/);
    // Cancel has the focus: Enter does not delete.
    await expect(dialog.locator('.jp-mod-reject')).toBeFocused();
    const accept = dialog.locator('.jp-mod-accept');
    await expect(accept).toHaveText('Delete');
    await accept.click();
    await expect(envSelect(panel).locator(`option[value="${ENV}"]`)).toHaveCount(0, {
      timeout: JOB_TIMEOUT
    });
    const sessions = await (await request.get('api/sessions')).json();
    expect(
      sessions.filter((s: { kernel: { name: string } }) => s.kernel.name === `userpkg-${ENV}`)
    ).toEqual([]);
  });
});
