/**
 * Playwright configuration of the browser tests of the Packages panel.
 *
 * Three Jupyter servers run for the tests (see jupyter_server_test_config.py):
 * the main one on port 8888; on port 8889 one that also serves a local,
 * deliberately slow package index (for the test that cancels an install);
 * on port 8890 one under the administrator's policy of policy.json, whose
 * PyPI index is a local one of the packages that policy judges (for the
 * policy test). Only that server has a policy.
 * Each gets a fresh directory under the run directory for its environments,
 * kernelspecs and caches.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

// The configuration is read by the runner and again by each worker: the run
// directory is made once, by the runner, and handed on in the environment.
if (!process.env.USERPKG_UI_RUN_DIR) {
  const runDir = path.join(os.tmpdir(), 'jupyter-userpkg-ui-tests');
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  process.env.USERPKG_UI_RUN_DIR = runDir;
}
const runDir = process.env.USERPKG_UI_RUN_DIR;

const reuse = process.env.USERPKG_UI_REUSE_SERVER === '1';

function server(script, port, dir, extraEnv = {}) {
  return {
    command: `jlpm ${script}`,
    url: `http://localhost:${port}/lab`,
    timeout: 180 * 1000,
    reuseExistingServer: reuse,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      ...process.env,
      USERPKG_UI_RUN_DIR: path.join(runDir, dir),
      // Nothing of the user's own Jupyter configuration and data.
      JUPYTER_CONFIG_DIR: path.join(runDir, dir, 'jupyter-config'),
      JUPYTER_DATA_DIR: path.join(runDir, dir, 'data'),
      ...extraEnv
    }
  };
}

module.exports = {
  ...baseConfig,
  testDir: './tests',
  // One worker: the tests share two servers, and each install is real work.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 240 * 1000,
  expect: {
    timeout: 30 * 1000,
    toHaveScreenshot: { maxDiffPixelRatio: 0.01, animations: 'disabled' }
  },
  reporter: [['list'], ['html', { open: 'never' }]],
  snapshotPathTemplate:
    '{testDir}/{testFileDir}/{testFileName}-snapshots/{arg}{ext}',
  use: {
    ...baseConfig.use,
    baseURL: 'http://localhost:8888',
    video: 'off',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic'
      ]
    }
  },
  webServer: [
    server('start', 8888, 'main'),
    server('start:slow-index', 8889, 'slow'),
    // Its policy (policy.json) in the administrator's /etc/jupyter of a private
    // mount namespace: see with_admin_policy.py.
    server('start:policy', 8890, 'policy')
  ]
};
