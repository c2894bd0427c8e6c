/**
 * Notebooks that carry their environment: a change by `%userpkg` in a notebook
 * writes `metadata.userpkg` (the notebook turns dirty and the saved file has
 * it); a notebook whose metadata names an env the user lacks opens with a
 * banner, whose "Create environment" makes the env from that metadata and
 * moves the notebook to its kernel.
 */
import { expect, IJupyterLabPageFixture, test } from '@jupyterlab/galata';

import type { APIRequestContext } from '@playwright/test';

import { JOB_TIMEOUT, PANEL_ID, deleteEnvQuietly, envSelect, snapshot } from './userpkg';

const SRC = 'nbenv-src';
const COPY = 'nbenv-copy';
const OTHER = 'nbenv-other';

test.describe.configure({ mode: 'serial' });

test.afterAll(async ({ request }) => {
  await deleteEnvQuietly(request, SRC);
  await deleteEnvQuietly(request, COPY);
  await deleteEnvQuietly(request, OTHER);
  await deleteEnvQuietly(request, `${OTHER}-2`);
});

/** `POST envs` and wait for its job to succeed. */
async function createByApi(request: APIRequestContext, body: object): Promise<void> {
  const response = await request.post('userpkg/api/envs', { data: body });
  expect(response.status()).toBe(202);
  const job = await response.json();
  await expect
    .poll(
      async () => (await (await request.get(`userpkg/api/jobs/${job.id}`)).json()).state,
      { timeout: JOB_TIMEOUT, intervals: [500] }
    )
    .toBe('succeeded');
}

/** The notebook's JSON as the server has it on disk. */
async function savedNotebook(request: APIRequestContext, path: string): Promise<any> {
  const response = await request.get(`api/contents/${path}?content=1`);
  expect(response.status()).toBe(200);
  return (await response.json()).content;
}

/** Run the active notebook's first cell and answer its output's text. */
async function runFirstCell(page: IJupyterLabPageFixture, code: string): Promise<string> {
  await page.notebook.setCell(0, 'code', code);
  await page.notebook.runCell(0, true);
  const cell = await page.notebook.getCellLocator(0);
  return (await cell!.locator('.jp-OutputArea').textContent()) ?? '';
}

/**
 * A colleague's notebook at `path`: the record of SRC under the env name `env`,
 * and a cell importing tabulate.
 */
async function writeColleagueNotebook(
  request: APIRequestContext,
  path: string,
  env: string
): Promise<string> {
  const exported = await request.get(`userpkg/api/envs/${SRC}/export?format=notebook`);
  expect(exported.status()).toBe(200);
  const meta = { ...(await exported.json()), env };
  const notebook = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: 'python3', display_name: 'Python 3 (ipykernel)', language: 'python' },
      userpkg: meta
    },
    cells: [
      {
        cell_type: 'code',
        id: 'c1',
        metadata: {},
        execution_count: null,
        outputs: [],
        source: 'import tabulate\nprint("tabulate", tabulate.__version__)'
      }
    ]
  };
  const put = await request.put(`api/contents/${path}`, {
    data: { type: 'notebook', format: 'json', content: notebook }
  });
  expect(put.status()).toBeLessThan(300);
  return path;
}

test('a change by %userpkg in a notebook records its env; the saved file has it', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(2 * JOB_TIMEOUT);
  await createByApi(request, { name: SRC, kind: 'layer' });
  await page.goto();
  await page.notebook.createNew('carry.ipynb', { kernel: `userpkg-${SRC}` });
  const path = `${tmpPath}/carry.ipynb`;
  await page.notebook.save();
  expect((await savedNotebook(request, path)).metadata.userpkg).toBeUndefined();

  await test.step('%userpkg install turns the notebook dirty', async () => {
    const output = await runFirstCell(
      page,
      '%load_ext jupyter_userpkg\n%userpkg install tabulate==0.9.0'
    );
    expect(output).toContain('tabulate');
    const tab = page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab', { hasText: 'carry.ipynb' });
    await expect(tab).toHaveClass(/\bjp-mod-dirty\b/, { timeout: 30 * 1000 });
  });

  await test.step('saved, the file holds metadata.userpkg of the env', async () => {
    // The record follows the change's event: a save before it lands stores none yet.
    await expect
      .poll(
        async () => {
          await page.notebook.save();
          return (await savedNotebook(request, path)).metadata.userpkg?.env;
        },
        { timeout: 30 * 1000, intervals: [1000] }
      )
      .toBe(SRC);
    const meta = (await savedNotebook(request, path)).metadata.userpkg;
    expect(meta.kind).toBe('layer');
    expect(meta.requests.pypi).toContain('tabulate==0.9.0');
    expect(meta.lock.format).toBe('jupyter-userpkg-lock');
    expect(meta.lock.text).toContain('name = "tabulate"');
  });
});

test('a notebook of an env the user lacks opens with the banner; Create makes it and runs', async ({
  page,
  request,
  tmpPath
}, testInfo) => {
  test.setTimeout(2 * JOB_TIMEOUT);
  const path = await writeColleagueNotebook(request, `${tmpPath}/colleague.ipynb`, COPY);
  await page.goto();
  await page.filebrowser.open(path);
  const banner = page.locator('.jp-NotebookPanel .jp-userpkg-EnvBanner');

  await test.step('the banner names the env and what it asks for', async () => {
    await expect(banner).toBeVisible({ timeout: 30 * 1000 });
    await expect(banner).toHaveAttribute('data-env', COPY);
    await expect(banner).toContainText(`the environment ${COPY}, which you do not have`);
    await expect(banner).toContainText('tabulate==0.9.0');
    await expect(banner).toContainText(/\d+ packages? in its lock/);
    await expect(banner.getByRole('button', { name: 'Create environment' })).toBeVisible();
  });

  await test.step('the banner at 250 and 420 px sidebar widths, light and dark', async () => {
    await page.sidebar.openTab(PANEL_ID);
    for (const width of [250, 420]) {
      await page.sidebar.setWidth(width);
      await snapshot(page, testInfo, banner, `notebook-banner-${width}`);
    }
  });

  await test.step("Show plan shows the server's plan of the create; nothing is built", async () => {
    await banner.getByRole('button', { name: 'Show plan' }).click();
    const plan = banner.locator('.jp-userpkg-plan');
    await expect(plan).toBeVisible({ timeout: 60 * 1000 });
    await expect(plan).toContainText(`Create ${COPY} from this notebook`);
    await expect(plan.locator('.jp-userpkg-plan-changes')).toContainText('tabulate');
    await expect(plan.locator('.jp-userpkg-plan-changes')).toContainText('0.9.0');
    await expect(plan).toContainText('its lock is installed exactly');
    const envs = await (await request.get('userpkg/api/envs')).json();
    expect(envs.map((e: { name: string }) => e.name)).not.toContain(COPY);
    for (const width of [250, 420]) {
      await page.sidebar.setWidth(width);
      await snapshot(page, testInfo, banner, `notebook-plan-${width}`);
    }
  });

  await test.step('Create environment from the plan: the env appears, the notebook moves to its kernel', async () => {
    await banner.locator('.jp-userpkg-plan .jp-userpkg-apply').click();
    await expect(banner).toHaveCount(0, { timeout: JOB_TIMEOUT });
    const panel = page.locator(`#${PANEL_ID}`);
    await expect(envSelect(panel).locator(`option[value="${COPY}"]`)).toHaveCount(1);
    await expect
      .poll(
        async () => {
          const sessions = await (await request.get('api/sessions')).json();
          return sessions.find((s: { path: string }) => s.path === path)?.kernel?.name;
        },
        { timeout: 60 * 1000 }
      )
      .toBe(`userpkg-${COPY}`);
  });

  await test.step('the notebook runs import tabulate in it', async () => {
    await page.notebook.runCell(0, true);
    const cell = await page.notebook.getCellLocator(0);
    await expect(cell!.locator('.jp-OutputArea')).toContainText('tabulate 0.9.0');
  });
});

test('an env the user has with another lock: the banner says so, Create makes NAME-2, recorded', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(2 * JOB_TIMEOUT);
  await createByApi(request, { name: OTHER, kind: 'layer' });
  const path = await writeColleagueNotebook(request, `${tmpPath}/other.ipynb`, OTHER);
  await page.goto();
  await page.filebrowser.open(path);
  const banner = page.locator('.jp-NotebookPanel .jp-userpkg-EnvBanner');
  await expect(banner).toHaveAttribute('data-reason', 'differs', { timeout: 30 * 1000 });
  await expect(banner).toContainText(`another lock of your environment ${OTHER}`);
  await expect(banner).toContainText(`It would be created as ${OTHER}-2.`);

  await banner.getByRole('button', { name: 'Create environment' }).click();
  await expect(banner).toHaveCount(0, { timeout: JOB_TIMEOUT });
  await page.notebook.runCell(0, true);
  const cell = await page.notebook.getCellLocator(0);
  await expect(cell!.locator('.jp-OutputArea')).toContainText('tabulate 0.9.0');

  // Now on OTHER-2's kernel, the notebook records that env; the save stores it.
  await page.notebook.save();
  const saved = (await savedNotebook(request, path)).metadata.userpkg;
  expect(saved.env).toBe(`${OTHER}-2`);
});
