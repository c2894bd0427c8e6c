/**
 * "No module named X" under a cell's output: the package that provides X, with
 * its evidence, and an Install button that opens the usual plan in the
 * Packages panel (nothing is installed before Apply).
 */
import { expect, test } from '@jupyterlab/galata';

import { JOB_TIMEOUT, PANEL_ID, envSelect, snapshot } from './userpkg';

test('a failing import offers the package that provides it; Install opens the plan', async ({
  page
}, testInfo) => {
  await page.notebook.createNew();
  // No %userpkg: the offer comes from the notebook's output alone.
  await page.notebook.setCell(0, 'code', 'import slugify');
  await page.notebook.runCell(0, true);
  const cell = await page.notebook.getCellLocator(0);
  expect(cell).not.toBeNull();
  await expect(cell!.locator('.jp-OutputArea-output')).toContainText(
    "No module named 'slugify'"
  );

  const offer = cell!.locator('.jp-userpkg-ImportOffer[data-package="python-slugify"]');
  await test.step('the offer sits under the failing output, with its evidence', async () => {
    await expect(offer).toBeVisible({ timeout: 60 * 1000 });
    await expect(offer).toContainText('slugify is provided by python-slugify');
    // Read from the wheel's RECORD on PyPI, or from an env that holds it.
    expect(['record', 'installed']).toContain(await offer.getAttribute('data-evidence'));
    await expect(offer.locator('button.jp-userpkg-ImportOffer-install')).toHaveText(
      'Install python-slugify into default'
    );
    await snapshot(page, testInfo, offer, 'import-offer', [
      offer.locator('.jp-userpkg-ImportOffer-evidence')
    ]);
  });

  await test.step('Install opens the plan in the Packages panel, nothing installed', async () => {
    await offer.locator('button.jp-userpkg-ImportOffer-install').click();
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(panel).toBeVisible();
    await expect(envSelect(panel)).toHaveValue('default');
    const plan = panel.locator('.jp-userpkg-plan');
    await expect(plan).toBeVisible({ timeout: JOB_TIMEOUT });
    await expect(
      plan.locator('.jp-userpkg-plan-change[data-package="python-slugify"][data-action="add"]')
    ).toBeVisible();
    await expect(plan.locator('button.jp-userpkg-apply')).toBeVisible();
  });

  await test.step('running the cell again takes the offer away until it fails again', async () => {
    await page.notebook.setCell(0, 'code', 'print("fine")');
    await page.notebook.runCell(0, true);
    await expect(cell!.locator('.jp-userpkg-ImportOffer')).toHaveCount(0);
  });
});
