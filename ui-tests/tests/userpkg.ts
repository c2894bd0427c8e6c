/**
 * What the tests do with the Packages panel, in the words of its DOM
 * (see the panel's class names and data attributes in src/components/).
 */
import * as path from 'path';

import { expect, IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, TestInfo } from '@playwright/test';

export const PANEL_ID = 'jupyter-userpkg-panel';

/** The left sidebar's width in the tests and screenshots: JupyterLab's default (pixels). */
export const SIDEBAR_WIDTH = 250;

/** How long a job (create, install, rollback, delete) may take. */
export const JOB_TIMEOUT = 180 * 1000;

/** Where the screenshots for the user guide go. */
const DOCS_IMAGES = path.resolve(__dirname, '..', '..', 'docs', 'images');

/** The panel's <select> (a JupyterLab HTMLSelect puts the class on its wrapper). */
export function select(scope: Locator, cls: string): Locator {
  return scope.locator(`select.${cls}, .${cls} select`).first();
}

export function envSelect(panel: Locator): Locator {
  return select(panel, 'jp-userpkg-env-select');
}

export function packageRow(panel: Locator, name: string): Locator {
  return panel.locator(
    `.jp-userpkg-packages .jp-userpkg-package-row[data-package="${name}"]`
  );
}

/** Show the dependencies (and the base) besides what was asked for. */
export async function showAllPackages(panel: Locator): Promise<void> {
  for (const cls of ['jp-userpkg-show-dependencies', 'jp-userpkg-show-base']) {
    const toggle = panel.locator(`input.${cls}`);
    if ((await toggle.count()) > 0) {
      await toggle.check();
    }
  }
}

/** Open a package row's actions (its menu button). */
export async function openRowActions(panel: Locator, name: string): Promise<Locator> {
  const row = packageRow(panel, name);
  const menu = row.locator('button.jp-userpkg-package-menu');
  if ((await menu.getAttribute('aria-expanded')) !== 'true') {
    await menu.click();
  }
  await expect(row.locator('.jp-userpkg-package-actions')).toBeVisible();
  return row;
}

export function progress(panel: Locator): Locator {
  return panel.locator('.jp-userpkg-progress');
}

export function errorMessage(panel: Locator): Locator {
  return panel.locator('.jp-userpkg-error .jp-userpkg-error-message');
}

/** Open the Packages panel from its tab in the left sidebar. */
export async function openPanel(
  page: IJupyterLabPageFixture,
  width = SIDEBAR_WIDTH
): Promise<Locator> {
  const tab = page.sidebar.getTabLocator(PANEL_ID);
  await expect(tab).toHaveCount(1);
  await expect(tab).toHaveAttribute('title', 'Packages');
  await page.sidebar.openTab(PANEL_ID);
  await page.sidebar.setWidth(width);
  const panel = page.locator(`#${PANEL_ID}`);
  await expect(panel).toBeVisible();
  await expect(panel).toHaveClass(/\bjp-userpkg-panel\b/);
  return panel;
}

/** Select one of the panel's tabs: packages, search or history. */
export async function openTab(
  panel: Locator,
  name: 'packages' | 'search' | 'history'
): Promise<void> {
  const tab = panel.locator(`.jp-userpkg-tab[data-tab="${name}"]`);
  await tab.click();
  await expect(tab).toHaveAttribute('aria-selected', 'true');
}

export interface IEnvForm {
  name: string;
  kind: 'layer' | 'venv' | 'conda';
  specs?: string;
  channels?: string;
  python?: string;
}

/** Fill in the create form and submit it; does not wait for the job. */
export async function submitCreateForm(
  panel: Locator,
  env: IEnvForm
): Promise<void> {
  await panel.locator('button.jp-userpkg-create-button').click();
  const form = panel.locator('.jp-userpkg-create-form');
  await expect(form).toBeVisible();
  await form.locator('input[name="name"]').fill(env.name);
  await form.locator('select[name="kind"]').selectOption(env.kind);
  if (env.python !== undefined) {
    await form.locator('input[name="python"]').fill(env.python);
  }
  if (env.channels !== undefined) {
    await form.locator('input[name="channels"]').fill(env.channels);
  }
  if (env.specs !== undefined) {
    await form.locator('input[name="specs"]').fill(env.specs);
  }
  await form.locator('button.jp-userpkg-create-submit').click();
}

/** Create an environment with the form and wait until the panel shows it. */
export async function createEnv(panel: Locator, env: IEnvForm): Promise<void> {
  await submitCreateForm(panel, env);
  await expect(envSelect(panel)).toHaveValue(env.name, { timeout: JOB_TIMEOUT });
  await waitForJobEnd(panel);
  await expect(panel.locator('.jp-userpkg-error')).toHaveCount(0);
}

/** Wait until no job progress shows in the panel. */
export async function waitForJobEnd(panel: Locator): Promise<void> {
  await expect(progress(panel)).toHaveCount(0, { timeout: JOB_TIMEOUT });
}

/** The names of the packages the table lists, in its order. */
export async function tableNames(panel: Locator): Promise<string[]> {
  return panel
    .locator('.jp-userpkg-packages .jp-userpkg-package-row')
    .evaluateAll(rows => rows.map(row => row.getAttribute('data-package') ?? ''));
}

/**
 * Record, from now on, whether the job progress element shows at any time
 * (a small install can come and go between two looks of a test).
 */
export async function watchProgress(page: IJupyterLabPageFixture): Promise<void> {
  await page.evaluate(() => {
    const seen = { progress: false, bar: false, messages: [] as string[] };
    (window as any).userpkgProgressSeen = seen;
    const look = () => {
      const element = document.querySelector('.jp-userpkg-progress');
      if (element) {
        seen.progress = true;
        seen.bar = seen.bar || !!element.querySelector('progress');
        const message = element.querySelector('.jp-userpkg-progress-message');
        const text = message?.textContent?.trim();
        if (text && seen.messages[seen.messages.length - 1] !== text) {
          seen.messages.push(text);
        }
      }
    };
    new MutationObserver(look).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true
    });
    look();
  });
}

export async function progressSeen(
  page: IJupyterLabPageFixture
): Promise<{ progress: boolean; bar: boolean; messages: string[] }> {
  return page.evaluate(() => (window as any).userpkgProgressSeen);
}

/** Run a command of the extension (without waiting for what it opens). */
export async function startCommand(
  page: IJupyterLabPageFixture,
  id: string
): Promise<void> {
  const known = await page.evaluate(
    id => (window as any).jupyterapp.commands.hasCommand(id),
    id
  );
  expect(known, `command ${id} is registered`).toBe(true);
  await page.evaluate(id => {
    void (window as any).jupyterapp.commands.execute(id);
  }, id);
}

/** `userpkg:install`: answer its prompt with `specs`; apply the plan if it shows one. */
export async function installWithCommand(
  page: IJupyterLabPageFixture,
  panel: Locator,
  specs: string,
  options: { apply?: boolean } = {}
): Promise<void> {
  await startCommand(page, 'userpkg:install');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  await dialog.locator('input').first().fill(specs);
  await dialog.locator('.jp-mod-accept').click();
  await expect(dialog).toHaveCount(0);
  if (options.apply === false) {
    return;
  }
  // The plan preview, or at once the job or its error.
  const plan = panel.locator('.jp-userpkg-plan');
  await expect(
    plan.or(progress(panel)).or(panel.locator('.jp-userpkg-error')).first()
  ).toBeVisible({ timeout: JOB_TIMEOUT });
  if (await plan.isVisible()) {
    await plan.locator('button.jp-userpkg-apply').click();
  }
}

/** Delete an environment through the REST API, if it is there (clean-up). */
export async function deleteEnvQuietly(
  request: APIRequestContext,
  name: string
): Promise<void> {
  const response = await request.delete(`userpkg/api/envs/${name}`);
  if (response.status() !== 202) {
    return;
  }
  const job = await response.json();
  const until = Date.now() + JOB_TIMEOUT;
  while (Date.now() < until) {
    const state = (await (await request.get(`userpkg/api/jobs/${job.id}`)).json()).state;
    if (!['queued', 'running'].includes(state)) {
      return;
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
}

/** Whether this run writes the user guide's screenshots (with --update-snapshots). */
function writeDocs(testInfo: TestInfo): boolean {
  return (
    process.env.USERPKG_DOCS_SCREENSHOTS === '1' ||
    testInfo.config.updateSnapshots === 'all' ||
    testInfo.config.updateSnapshots === 'changed'
  );
}

/**
 * Compare `target` with its snapshots `<name>-light.png` and `<name>-dark.png`,
 * and write `docs/images/panel-<name>.png` (light) when snapshots are updated.
 * `mask` hides, in the snapshots only, what changes from run to run (times,
 * counts, what PyPI answers today).
 */
export async function snapshot(
  page: IJupyterLabPageFixture,
  testInfo: TestInfo,
  target: Locator,
  name: string,
  mask: Locator[] = []
): Promise<void> {
  // No hover or focus ring from the last click.
  await page.mouse.move(600, 700);
  // Whatever state it shows, nothing scrolls sideways and no word is broken.
  expect(await overflowing(target), `${name}: elements wider than their box`).toEqual([]);
  expect(await brokenWords(target), `${name}: words broken over two lines`).toEqual([]);
  await expect(target).toHaveScreenshot(`${name}-light.png`, { mask });
  if (writeDocs(testInfo)) {
    await target.screenshot({
      path: path.join(DOCS_IMAGES, `panel-${name}.png`),
      animations: 'disabled'
    });
  }
  await page.theme.setDarkTheme();
  try {
    await expect(target).toHaveScreenshot(`${name}-dark.png`, { mask });
  } finally {
    await page.theme.setLightTheme();
  }
}

/**
 * The elements inside `root` (and `root` itself) that are wider than their
 * box: anything that would scroll sideways. Text cut with an ellipsis on
 * purpose (a name with its tooltip) is not counted.
 */
export async function overflowing(root: Locator): Promise<string[]> {
  return root.evaluate((top: HTMLElement) => {
    const found: string[] = [];
    const elements = [top, ...Array.from(top.querySelectorAll<HTMLElement>('*'))];
    for (const el of elements) {
      if (!(el instanceof HTMLElement) || el.closest('.jp-mod-hidden-label')) {
        continue;
      }
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.display === 'inline') {
        continue;
      }
      if (style.textOverflow === 'ellipsis' && el.title) {
        continue;
      }
      if (el.scrollWidth > el.clientWidth + 1) {
        found.push(
          `${el.tagName.toLowerCase()}.${el.className} (${el.scrollWidth} > ${el.clientWidth})`
        );
      }
    }
    const box = top.getBoundingClientRect();
    for (const el of elements) {
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && rect.right > box.right + 1 && !el.closest('.jp-mod-hidden-label')) {
        found.push(`${el.tagName.toLowerCase()}.${el.className} ends at ${rect.right} > ${box.right}`);
      }
    }
    return found;
  });
}

/**
 * The words inside `root` that the layout broke over two lines ("aiodn s"),
 * with the element they are in. Hidden labels, <option>s and summaries
 * that come from the package index are left out.
 */
export async function brokenWords(root: Locator): Promise<string[]> {
  return root.evaluate((top: HTMLElement) => {
    const found: string[] = [];
    const walker = document.createTreeWalker(top, NodeFilter.SHOW_TEXT);
    const skip = '.jp-mod-hidden-label, option, .jp-userpkg-search-summary, pre, code';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest(skip)) {
        continue;
      }
      const text = node.textContent ?? '';
      const words = /\S+/g;
      let match: RegExpExecArray | null;
      while ((match = words.exec(text))) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set(
          Array.from(range.getClientRects())
            .filter(r => r.width > 0)
            .map(r => Math.round(r.top))
        );
        if (tops.size > 1) {
          found.push(`"${match[0]}" in ${parent.className || parent.tagName}`);
        }
      }
    }
    return found;
  });
}

/** Whether `inner` lies within the visible part of `outer` (vertically and sideways). */
export async function insideViewport(outer: Locator, inner: Locator): Promise<boolean> {
  const o = await outer.boundingBox();
  const i = await inner.boundingBox();
  if (!o || !i) {
    return false;
  }
  return (
    i.y >= o.y - 1 &&
    i.y + Math.min(i.height, 40) <= o.y + o.height + 1 &&
    i.x >= o.x - 1 &&
    i.x + i.width <= o.x + o.width + 1
  );
}
