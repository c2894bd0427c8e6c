/**
 * The administrator's policy in the panel.
 *
 * These tests run against the third server (port 8890), the only one with a
 * policy (`policy.json`): `userpkg-policy-demo` 2.0 is blocked with a reason
 * and an advisory id, `userpkg-blocked-demo` is blocked as a whole. Both come
 * from the server's local index (`policy_index.py`), where 2.1, the fixed
 * version, is "released" by the test once an env holds 2.0.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { expect, test } from '@jupyterlab/galata';

import {
  deleteEnvQuietly,
  envSelect,
  errorMessage,
  installWithCommand,
  openPanel,
  openTab,
  packageRow,
  progressSeen,
  select,
  snapshot,
  waitForJobEnd,
  watchProgress
} from './userpkg';

const ENV = 'advised';
const DEMO = 'userpkg-policy-demo';
const BLOCKED = 'userpkg-blocked-demo';
const REASON = 'its loader runs code from any file it opens';
const ADVISORY = 'DEMO-2026-1';
const RULE = `blocked_versions: ${DEMO} ==2.0`;

/** The policy server's directory of this run (see playwright.config.js). */
const ROOT = path.join(process.env.USERPKG_UI_RUN_DIR ?? '', 'policy');
/** The file that "releases" userpkg-policy-demo 2.1 on the local index. */
const RELEASED = path.join(ROOT, 'policy-wheels', `${DEMO}-2.1.released`);

/**
 * `jupyter userpkg ARGS` as the user of the policy server runs it in a
 * terminal, before the administrator's policy came: the same settings, outside
 * the policy server's mount namespace (whose /etc/jupyter holds the policy).
 */
function cliWithoutPolicy(...args: string[]): string {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JUPYTER_CONFIG_PATH: path.join(ROOT, 'config'),
    JUPYTER_DATA_DIR: path.join(ROOT, 'data'),
    JUPYTER_USERPKG_ENVS_DIR: path.join(ROOT, 'envs'),
    XDG_CONFIG_HOME: path.join(ROOT, 'xdg-config')
  };
  return execFileSync('jupyter-userpkg', args, {
    encoding: 'utf-8',
    timeout: 300 * 1000,
    env
  });
}

test.describe('under a policy', () => {
  test.use({ baseURL: 'http://localhost:8890' });

  test.afterEach(async ({ request }) => {
    await deleteEnvQuietly(request, ENV);
  });

  test('blocked versions and packages: advisories and their fix, refusals, blocked hits, the policy', async ({
    page
  }, testInfo) => {
    await test.step('before the policy, the CLI installs userpkg-policy-demo: 2.0, the newest then', () => {
      fs.rmSync(RELEASED, { force: true });
      const output = cliWithoutPolicy(
        'create',
        ENV,
        '--kind',
        'venv',
        '--no-kernel',
        '-y',
        DEMO
      );
      expect(output).toContain('2.0');
      // The fixed version comes out.
      fs.writeFileSync(RELEASED, '');
    });

    const panel = await openPanel(page);
    const option = envSelect(panel).locator(`option[value="${ENV}"]`);
    const mark = panel.locator('.jp-userpkg-header .jp-userpkg-advisory-mark');
    const advisories = panel.locator('.jp-userpkg-advisories');
    const advisory = advisories.locator(`.jp-userpkg-advisory[data-package="${DEMO}"]`);
    const plan = panel.locator('.jp-userpkg-plan');

    await test.step('the env list marks the env, its tooltip lists the advisory', async () => {
      await expect(option).toHaveAttribute('data-advisories', '1');
      await expect(option).toContainText('⚠ 1');
      await expect(option).toHaveAttribute('title', new RegExp(`${DEMO} 2\\.0: .*${ADVISORY}`));
      await envSelect(panel).selectOption(ENV);
      await expect(mark).toHaveAttribute('data-count', '1');
      await expect(mark).toHaveAttribute('title', new RegExp(REASON));
    });

    await test.step('the env shows the advisory, its package is marked in the table', async () => {
      await expect(advisory).toBeVisible();
      await expect(advisory).toHaveAttribute('data-version', '2.0');
      await expect(advisory.locator('.jp-userpkg-advisory-reason')).toHaveText(REASON);
      await expect(advisory.locator('.jp-userpkg-advisory-id')).toContainText(ADVISORY);
      await expect(advisory.locator('.jp-userpkg-advisory-rule')).toContainText(RULE);
      await openTab(panel, 'packages');
      const row = packageRow(panel, DEMO);
      await expect(row).toHaveAttribute('data-blocked', 'true');
      await expect(row.locator('.jp-userpkg-package-blocked')).toHaveAttribute(
        'title',
        new RegExp(REASON)
      );
      await snapshot(page, testInfo, panel, 'advisories');
    });

    await test.step('the fix plans an update to 2.1; applied, the warning is gone', async () => {
      const fix = advisory.locator('button.jp-userpkg-advisory-fix');
      await expect(fix).toHaveText(`Update ${DEMO}`);
      await fix.click();
      await expect(plan).toBeVisible();
      const change = plan.locator(
        `.jp-userpkg-plan-change[data-package="${DEMO}"][data-action="change"]`
      );
      await expect(change).toContainText('2.0 -> 2.1');
      await watchProgress(page);
      await plan.locator('button.jp-userpkg-apply').click();
      await waitForJobEnd(panel);
      expect((await progressSeen(page)).progress, 'the update showed its progress').toBe(true);
      await expect(panel.locator('.jp-userpkg-error')).toHaveCount(0);
      const row = packageRow(panel, DEMO);
      await expect(row.locator('.jp-userpkg-package-version')).toHaveText('2.1');
      await expect(row).not.toHaveAttribute('data-blocked', 'true');
      await expect(advisories).toHaveCount(0);
      await expect(mark).toHaveCount(0);
      await expect(option).not.toHaveAttribute('data-advisories', /.*/);
      await expect(option).toHaveText(ENV);
    });

    await test.step('a request for 2.0 is refused: the rule, the reason, the nearest allowed version', async () => {
      await installWithCommand(page, panel, `${DEMO}==2.0`);
      const error = panel.locator('.jp-userpkg-error[data-code="policy_denied"]');
      await expect(error).toBeVisible();
      await expect(error.locator('.jp-userpkg-error-title')).toHaveText(
        "Refused by the administrator's policy"
      );
      const message = errorMessage(panel);
      await expect(message).toContainText(RULE);
      await expect(message).toContainText(REASON);
      await expect(message).toContainText(ADVISORY);
      await expect(message).toContainText('the nearest allowed version is 2.1');
      await expect(error.locator('.jp-userpkg-error-rule')).toHaveText(`Rule: ${RULE}`);
      // The server's words, not its JSON.
      await expect(error).not.toContainText('{');
      await expect(error).not.toContainText('"code"');
      await expect(plan).toHaveCount(0);
      await expect(packageRow(panel, DEMO).locator('.jp-userpkg-package-version')).toHaveText(
        '2.1'
      );
      await snapshot(page, testInfo, panel, 'refusal');
      await error.locator('.jp-userpkg-error-dismiss').click();
      await expect(error).toHaveCount(0);
    });

    await test.step('search: a blocked package is marked, its install disabled with the reason', async () => {
      await openTab(panel, 'search');
      await panel.locator('input.jp-userpkg-search').pressSequentially('userpkg', { delay: 40 });
      const results = panel.locator('.jp-userpkg-search-results');
      const blocked = results.locator(`.jp-userpkg-search-result[data-package="${BLOCKED}"]`);
      const allowed = results.locator(`.jp-userpkg-search-result[data-package="${DEMO}"]`);
      await expect(blocked).toBeVisible({ timeout: 60 * 1000 });
      await expect(blocked).toHaveAttribute('data-blocked', 'true');
      const badge = blocked.locator('.jp-userpkg-blocked-badge');
      await expect(badge).toHaveText('blocked');
      await expect(badge).toHaveAttribute('title', /replaced by userpkg-policy-demo/);
      await expect(blocked.locator('.jp-userpkg-search-blocked')).toContainText(
        `blocked_packages: ${BLOCKED}`
      );
      await expect(allowed).toBeVisible();
      await expect(allowed.locator('.jp-userpkg-blocked-badge')).toHaveCount(0);

      await blocked.click();
      const info = panel.locator(`.jp-userpkg-package-info[data-package="${BLOCKED}"]`);
      await expect(info).toHaveAttribute('data-blocked', 'true');
      await expect(info.locator('.jp-userpkg-blocked-notice')).toContainText(
        'replaced by userpkg-policy-demo'
      );
      const install = info.locator('button.jp-userpkg-install-button');
      await expect(install).toBeDisabled();
      await expect(install).toHaveAttribute('title', /replaced by userpkg-policy-demo/);
      await snapshot(page, testInfo, panel, 'search-blocked');
    });

    await test.step("a package's details mark its blocked version; the picker does not offer it", async () => {
      await panel
        .locator(`.jp-userpkg-search-results .jp-userpkg-search-result[data-package="${DEMO}"]`)
        .click();
      const info = panel.locator(`.jp-userpkg-package-info[data-package="${DEMO}"]`);
      await expect(info).toBeVisible();
      await expect(info).not.toHaveAttribute('data-blocked', 'true');
      const versions = select(info, 'jp-userpkg-version-select');
      await expect(versions.locator('option[value="2.1"]')).toHaveCount(1);
      await expect(versions.locator('option[value="1.0"]')).toHaveCount(1);
      await expect(versions.locator('option[value="2.0"]')).toHaveCount(0);
      const marked = info.locator('.jp-userpkg-blocked-version[data-versions="2.0"]');
      await expect(marked).toContainText(REASON);
      await expect(marked).toContainText(ADVISORY);
      // 2.1 is installed: nothing to install; another allowed version can be.
      const install = info.locator('button.jp-userpkg-install-button');
      await expect(install).toHaveText('Installed 2.1');
      await expect(install).not.toHaveAttribute('title', /.+/);
      await versions.selectOption('1.0');
      await expect(install).toHaveText('Change to 1.0');
      await expect(install).toBeEnabled();
    });

    await test.step('the Policy view lists the rules and where they came from', async () => {
      await panel.locator('button.jp-userpkg-policy-button').click();
      const dialog = page.locator('.jp-Dialog');
      await expect(dialog).toBeVisible();
      await expect(dialog).toContainText("The administrator's policy");
      const versions = dialog.locator('.jp-userpkg-policy-rule[data-rule="blocked_versions"]');
      await expect(versions.locator('.jp-userpkg-policy-value')).toContainText(
        `${DEMO} ==2.0: ${REASON} (${ADVISORY})`
      );
      // policy.json, where the policy server's namespace puts it (with_admin_policy.py).
      await expect(versions.locator('.jp-userpkg-policy-origin')).toHaveText(
        '/etc/jupyter/jupyter_userpkg_policy.json'
      );
      const packages = dialog.locator('.jp-userpkg-policy-rule[data-rule="blocked_packages"]');
      await expect(packages.locator('.jp-userpkg-policy-value')).toContainText(BLOCKED);
      await expect(packages.locator('.jp-userpkg-policy-origin')).toContainText('policy.json');
      await expect(dialog.locator('.jp-userpkg-policy-rule')).toHaveCount(2);
      await expect(dialog.locator('.jp-userpkg-policy-none')).toHaveCount(0);
      await dialog.locator('.jp-mod-accept').click();
      await expect(dialog).toHaveCount(0);
    });
  });
});

test.describe('without a policy', () => {
  test('the Policy view says that no policy is set', async ({ page }) => {
    const panel = await openPanel(page);
    await panel.locator('button.jp-userpkg-policy-button').click();
    const dialog = page.locator('.jp-Dialog');
    await expect(dialog).toBeVisible();
    await expect(dialog.locator('.jp-userpkg-policy-none')).toContainText('No policy is set');
    await expect(dialog.locator('.jp-userpkg-policy-rule')).toHaveCount(0);
    await dialog.locator('.jp-mod-accept').click();
    await expect(dialog).toHaveCount(0);
  });
});
