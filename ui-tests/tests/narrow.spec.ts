/**
 * The panel at JupyterLab's default sidebar width (250 px) and at 420 px:
 * nothing scrolls sideways, no word is broken, the env's name is readable;
 * what the user asked for comes first; a plan opens where the action was
 * taken, and Apply ends with a notification; search ranks and marks what
 * is installed, and its results are a listbox.
 */
import { expect, test } from '@jupyterlab/galata';

import {
  brokenWords,
  createEnv,
  deleteEnvQuietly,
  envSelect,
  insideViewport,
  installWithCommand,
  JOB_TIMEOUT,
  openPanel,
  openRowActions,
  openTab,
  overflowing,
  packageRow,
  snapshot,
  tableNames
} from './userpkg';

const ENV = 'narrow-env';
/** A release PyPI will keep. */
const TABULATE = '0.9.0';

test.afterEach(async ({ request }) => {
  await deleteEnvQuietly(request, ENV);
});

test('the panel at 250 and 420 px: rows, requested first, plans in place, search', async ({
  page,
  request
}, testInfo) => {
  const panel = await openPanel(page, 250);
  const plan = panel.locator('.jp-userpkg-plan');

  await test.step('the create form, built from the kinds the server lists, at 250 and 420 px', async () => {
    await panel.locator('button.jp-userpkg-create-button').click();
    const form = panel.locator('.jp-userpkg-create-form');
    const kind = form.locator('select[name="kind"]');
    // The server's default kind is selected, with its summary; its base's Python.
    await expect(kind).toHaveValue('layer');
    await expect(form.locator('.jp-userpkg-kind-summary')).toContainText("server's Python");
    await expect(form.locator('input[name="python"]')).toBeDisabled();
    await expect(form.locator('input[name="channels"]')).toBeDisabled();
    await kind.selectOption('conda');
    await expect(form.locator('input[name="python"]')).toBeEnabled();
    await expect(form.locator('input[name="channels"]')).toBeEnabled();
    for (const width of [250, 420]) {
      await page.sidebar.setWidth(width);
      expect(await overflowing(form), 'elements wider than their box').toEqual([]);
      expect(await brokenWords(form), 'words broken over two lines').toEqual([]);
    }
    await page.sidebar.setWidth(250);
    await form.locator('button.jp-userpkg-create-cancel').click();
    await expect(form).toHaveCount(0);
  });

  await test.step('create a venv asking for python-slugify and tabulate', async () => {
    await createEnv(panel, {
      name: ENV,
      kind: 'venv',
      specs: `python-slugify tabulate==${TABULATE}`
    });
    await openTab(panel, 'packages');
    await expect(packageRow(panel, 'tabulate')).toBeVisible();
  });

  for (const width of [220, 250, 420]) {
    await test.step(`at ${width} px: no sideways scrolling, no broken word, the env name readable`, async () => {
      await page.sidebar.setWidth(width);
      await expect(panel).toBeVisible();
      expect(await overflowing(panel), 'elements wider than their box').toEqual([]);
      expect(await brokenWords(panel), 'words broken over two lines').toEqual([]);
      const select = envSelect(panel);
      const box = await select.boundingBox();
      const panelBox = await panel.boundingBox();
      expect(box!.width, 'the env picker takes the width').toBeGreaterThan(
        panelBox!.width - 40
      );
      const text = await select.evaluate((el: HTMLSelectElement) => {
        const canvas = document.createElement('canvas').getContext('2d')!;
        canvas.font = getComputedStyle(el).font;
        return canvas.measureText(el.options[el.selectedIndex].text).width;
      });
      expect(box!.width - 30, 'the env name fits its picker').toBeGreaterThan(text);
      if (width !== 220) {
        await snapshot(page, testInfo, panel, `narrow-packages-${width}`);
      }
    });
  }

  await test.step('Export is one menu button beside Notebook and Console', async () => {
    for (const width of [250, 420]) {
      await page.sidebar.setWidth(width);
      const exportButton = panel.locator('button.jp-userpkg-export-button');
      const notebook = panel.locator('button.jp-userpkg-open-notebook');
      const console_ = panel.locator('button.jp-userpkg-open-console');
      // One row: the three buttons side by side, none wrapped under another.
      const tops = await Promise.all(
        [exportButton, notebook, console_].map(async b => (await b.boundingBox())!.y)
      );
      expect(new Set(tops).size, `one row at ${width} px`).toBe(1);
      await exportButton.click();
      const menu = panel.locator('.jp-userpkg-export-list');
      await expect(menu).toBeVisible();
      await expect(menu.locator('button.jp-userpkg-export')).toHaveText([
        'requirements.txt',
        'environment.yml',
        'lock'
      ]);
      await expect(menu.locator('button.jp-userpkg-export').first()).toBeFocused();
      expect(await insideViewport(panel, menu), 'the menu opens in sight').toBe(true);
      if (width === 250) {
        await snapshot(page, testInfo, panel, 'narrow-export-250');
      }
      await page.keyboard.press('Escape');
      await expect(menu).toBeHidden();
      await expect(exportButton).toBeFocused();
    }
  });

  await test.step('requested first: only what was asked for, dependencies on demand', async () => {
    await page.sidebar.setWidth(250);
    const names = await tableNames(panel);
    expect(names.sort()).toEqual(['ipykernel', 'python-slugify', 'tabulate']);
    const toggle = panel.locator('input.jp-userpkg-show-dependencies');
    const label = panel.locator('.jp-userpkg-toggle:has(input.jp-userpkg-show-dependencies)');
    await expect(label).toHaveText(/Dependencies \(\d+\)/);
    await toggle.check();
    await expect(packageRow(panel, 'text-unidecode')).toBeVisible();
    await expect(packageRow(panel, 'text-unidecode')).toHaveAttribute('data-requested', 'false');
    // A dependency cannot be removed on its own: the row says why.
    const row = await openRowActions(panel, 'text-unidecode');
    await expect(row.locator('button.jp-userpkg-remove-button')).toHaveCount(0);
    await expect(row.locator('.jp-userpkg-package-role')).toContainText('dependency');
    await expect(row.locator('.jp-userpkg-package-needed-by')).toHaveText(
      'Needed by: python-slugify'
    );
    expect(await overflowing(panel)).toEqual([]);
    expect(await brokenWords(panel)).toEqual([]);
  });

  await test.step('Update on the last row of a list scrolled to its end: the plan shows there', async () => {
    await panel.evaluate((el: HTMLElement) => (el.scrollTop = el.scrollHeight));
    const names = await tableNames(panel);
    const last = names[names.length - 1];
    const row = await openRowActions(panel, last);
    await row.locator('button.jp-userpkg-update-button').click();
    await expect(row.locator('.jp-userpkg-plan')).toBeVisible({ timeout: JOB_TIMEOUT });
    expect(await insideViewport(panel, row.locator('.jp-userpkg-plan'))).toBe(true);
    // It has the focus; Escape closes it.
    await expect(row.locator('.jp-userpkg-plan')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(plan).toHaveCount(0);
    // Back on the button the plan was asked from.
    await expect(row.locator('button.jp-userpkg-update-button')).toBeFocused();
  });

  await test.step('Remove, seen from the end of the list: plan in view, then a notification', async () => {
    await panel.evaluate((el: HTMLElement) => (el.scrollTop = el.scrollHeight));
    const row = await openRowActions(panel, 'tabulate');
    await row.locator('button.jp-userpkg-remove-button').click();
    const rowPlan = row.locator('.jp-userpkg-plan');
    await expect(rowPlan).toBeVisible({ timeout: JOB_TIMEOUT });
    expect(await insideViewport(panel, rowPlan)).toBe(true);
    await expect(
      rowPlan.locator('.jp-userpkg-plan-change[data-package="tabulate"][data-action="remove"]')
    ).toBeVisible();
    expect(await overflowing(panel)).toEqual([]);
    await snapshot(page, testInfo, panel, 'narrow-plan-250');
    await rowPlan.locator('button.jp-userpkg-apply').click();
    const toast = page.locator('.Toastify__toast').filter({ hasText: 'removed from' });
    await expect(toast).toBeVisible({ timeout: JOB_TIMEOUT });
    await expect(toast).toContainText(`tabulate ${TABULATE} removed from ${ENV}, revision 1`);
    await expect(packageRow(panel, 'tabulate')).toHaveCount(0);
  });

  await test.step('search "slugify": python-slugify in the first three, marked installed', async () => {
    await openTab(panel, 'search');
    await panel.locator('input.jp-userpkg-search').pressSequentially('slugify', { delay: 40 });
    const results = panel.locator('.jp-userpkg-search-results .jp-userpkg-search-result');
    await expect(results.first()).toBeVisible({ timeout: 120 * 1000 });
    const names = await results.evaluateAll(rows =>
      rows.map(row => row.getAttribute('data-package') ?? '')
    );
    expect(names.slice(0, 3)).toContain('python-slugify');
    const hit = panel.locator(
      '.jp-userpkg-search-result[data-package="python-slugify"] .jp-userpkg-installed-mark'
    );
    await expect(hit).toHaveText(/^installed \d+(\.\d+)+/);
    expect(await overflowing(panel)).toEqual([]);
    // What PyPI lists changes over time: the snapshot hides the results.
    await snapshot(page, testInfo, panel, 'narrow-search-250', [
      panel.locator('.jp-userpkg-search-results')
    ]);
  });

  await test.step('arrow keys move through the results, Enter opens one', async () => {
    const listbox = panel.locator('.jp-userpkg-search-results[role="listbox"]');
    await listbox.focus();
    await expect(listbox).toHaveAttribute('aria-activedescendant', 'jp-userpkg-result-0');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect(listbox).toHaveAttribute('aria-activedescendant', 'jp-userpkg-result-2');
    const third = await panel.locator('#jp-userpkg-result-2').getAttribute('data-package');
    await page.keyboard.press('Enter');
    const info = panel.locator('.jp-userpkg-package-info');
    await expect(info).toHaveAttribute('data-package', third!);
    // The details take the focus; Escape closes them, back to the results.
    await expect(info).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(info).toHaveCount(0);
    await expect(listbox).toBeFocused();
    await page.keyboard.press('ArrowUp');
    await expect(listbox).toHaveAttribute('aria-activedescendant', 'jp-userpkg-result-1');
  });

  await test.step('an installed package offers no Install', async () => {
    await panel.locator('.jp-userpkg-search-result[data-package="python-slugify"]').click();
    const info = panel.locator('.jp-userpkg-package-info[data-package="python-slugify"]');
    await expect(info).toBeVisible();
    await expect(info.locator('button.jp-userpkg-install-button')).toHaveText(
      /^(Installed|Update to) \d/
    );
    await page.sidebar.setWidth(420);
    expect(await overflowing(panel)).toEqual([]);
    await snapshot(page, testInfo, panel, 'narrow-search-420', [
      panel.locator('.jp-userpkg-search-results'),
      info.locator('dl'),
      info.locator('button.jp-userpkg-install-button')
    ]);
  });

  await test.step('the restart notice names slugify when python-slugify changes', async () => {
    await openTab(panel, 'packages');
    await panel.locator('button.jp-userpkg-open-notebook').click();
    await expect(page.locator('.jp-NotebookPanel')).toHaveCount(1, { timeout: 60 * 1000 });
    await expect(panel.locator('.jp-userpkg-current-env')).toContainText(`This notebook: ${ENV}`, {
      timeout: 60 * 1000
    });
    await page.notebook.setCell(0, 'code', 'import slugify');
    await page.notebook.runCell(0, true);
    await installWithCommand(page, panel, 'python-slugify==8.0.1');
    const stale = panel.locator('.jp-userpkg-stale');
    await expect(stale.locator('li[data-module="slugify"]')).toHaveAttribute(
      'data-package',
      'python-slugify',
      { timeout: JOB_TIMEOUT }
    );
  });

  await test.step('a notebook whose env is deleted elsewhere is told so, with Change kernel', async () => {
    // As a terminal would: the env goes while the notebook's kernel runs.
    await deleteEnvQuietly(request, ENV);
    const gone = panel.locator('.jp-userpkg-env-gone');
    await expect(gone).toContainText(`environment, ${ENV}, is gone`, { timeout: 30 * 1000 });
    expect(await overflowing(panel)).toEqual([]);
    expect(await brokenWords(panel)).toEqual([]);
    await gone.locator('button.jp-userpkg-change-kernel').click();
    const picker = page.locator('.jp-Dialog');
    await expect(picker).toBeVisible();
    await picker.locator('.jp-mod-reject').click();
  });
});
