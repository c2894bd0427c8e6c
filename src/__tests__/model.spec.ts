import type { Kernel } from '@jupyterlab/services';

import { UserPkgModel } from '../model';

import { UserPkgError } from '../request';

import { ENVS, FakeService, PLAN, envEvent, jobEvent, makeJob } from './fakes';

const KERNEL = { restart: jest.fn(async () => undefined) } as unknown as Kernel.IKernelConnection;

function setup(modules: string[] | null = []) {
  const fake = new FakeService();
  const probe = { modules: jest.fn(async () => modules) };
  const model = new UserPkgModel(fake.asService(), {
    probe,
    jobs: { pollInterval: 20, quietPeriod: 60 },
    searchDelay: 10
  });
  return { fake, model, probe };
}

function until(check: () => boolean, timeout = 2000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) {
        resolve();
      } else if (Date.now() - start > timeout) {
        reject(new Error('timed out'));
      } else {
        setTimeout(tick, 5);
      }
    };
    tick();
  });
}

describe('UserPkgModel', () => {
  it('reads envs, then the packages and history of the selected one', async () => {
    const { fake, model } = setup();
    let changes = 0;
    model.changed.connect(() => changes++);
    await model.refresh();
    expect(model.envs).toEqual(ENVS);
    expect(model.selected).toBe('default');
    expect(model.packages[0].source).toBe('base');
    expect(fake.history).toHaveBeenCalledWith('default');
    expect(changes).toBeGreaterThan(0);
    await model.select('demo');
    expect(model.packages.map(p => p.name)).toEqual(['tabulate']);
  });

  it('offers default even before it exists', async () => {
    const { fake, model } = setup();
    fake.envs = ENVS.filter(e => e.name !== 'default');
    await model.refresh();
    expect(model.envNames).toEqual(['default', 'demo', 'sci']);
    expect(model.selectedEnv).toBeNull();
  });

  it("follows the active notebook's kernel", async () => {
    const { model } = setup();
    await model.refresh();
    model.setActiveKernel({ name: 'userpkg-demo', connection: null });
    await until(() => model.packages[0]?.name === 'tabulate');
    expect(model.selected).toBe('demo');
    expect(model.notebookEnv).toBe('demo');
    model.setActiveKernel({ name: 'python3', connection: null });
    expect(model.selected).toBe('default');
    model.setActiveKernel(null);
    expect(model.selected).toBe('default');
    expect(model.notebookEnv).toBeNull();
  });

  it('shows the plan of a change, errors with their details', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    await model.planChange({ install: ['pyyaml'] });
    expect(model.pending).toEqual({ kind: 'change', env: 'demo', request: { install: ['pyyaml'] }, plan: PLAN });
    fake.plan.mockRejectedValueOnce(
      new UserPkgError('cannot be satisfied', { code: 'unsatisfiable', details: 'numpy 3 needs Python 3.14' })
    );
    await model.planChange({ install: ['numpy>=3'] });
    expect(model.pending).toBeNull();
    expect(model.error).toEqual({ code: 'unsatisfiable', message: 'cannot be satisfied', details: 'numpy 3 needs Python 3.14' });
  });

  it('applies a plan and follows the job through its events', async () => {
    const { fake, model, probe } = setup(['json', 'numpy', 'sys', 'yaml']);
    await model.refresh();
    model.setActiveKernel({ name: 'userpkg-demo', connection: KERNEL });
    await model.planChange({ install: ['pyyaml'] });
    // No poll while events come.
    fake.getJob.mockImplementation(async () =>
      makeJob('succeeded', { result: { plan: PLAN, revision: 2, applied: true } })
    );
    const done = model.applyPending();
    await until(() => model.job !== null);
    expect(fake.applyChange).toHaveBeenCalledWith('demo', { install: ['pyyaml'] });
    model.handleEvent(jobEvent('running', { event: { phase: 'install', message: '+ pyyaml', done: 1, total: 2 } }));
    expect(model.job?.state).toBe('running');
    expect(model.job?.events.map(e => e.message)).toEqual(['+ pyyaml']);
    model.handleEvent(jobEvent('succeeded'));
    const job = await done;
    expect(job?.state).toBe('succeeded');
    expect(model.job).toBeNull();
    expect(model.error).toBeNull();
    expect(probe.modules).toHaveBeenCalledWith(KERNEL);
    expect(model.stale?.env).toBe('demo');
    expect(model.stale?.modules.map(m => [m.module, m.package])).toEqual([
      ['yaml', 'PyYAML'],
      ['numpy', 'numpy']
    ]);
    await model.restartKernel();
    expect(KERNEL.restart).toHaveBeenCalled();
    expect(model.stale).toBeNull();
  });

  it('says nothing is stale when the kernel runs another env', async () => {
    const { model, probe, fake } = setup(['numpy']);
    await model.refresh();
    model.setActiveKernel({ name: 'userpkg-sci', connection: KERNEL });
    await model.select('demo');
    fake.getJob.mockResolvedValue(makeJob('succeeded', { plan: PLAN }));
    await model.planChange({ install: ['numpy==2.1.3'] });
    const done = model.applyPending();
    await until(() => model.job !== null);
    model.handleEvent(jobEvent('succeeded'));
    await done;
    expect(probe.modules).not.toHaveBeenCalled();
    expect(model.stale).toBeNull();
  });

  it('polls the job when no event comes', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    await model.planChange({ install: ['pyyaml'] });
    fake.getJob
      .mockResolvedValueOnce(makeJob('running', { events: [{ phase: 'solve', message: 'resolving' }] }))
      .mockResolvedValue(makeJob('failed', { error: { code: 'unsatisfiable', message: 'no', details: 'why' } }));
    const job = await model.applyPending();
    expect(job?.state).toBe('failed');
    expect(fake.getJob.mock.calls.length).toBeGreaterThanOrEqual(2);
    expect(model.error).toEqual({ code: 'unsatisfiable', message: 'no', details: 'why' });
  });

  it('cancels the running job', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    await model.planChange({ remove: ['tabulate'] });
    fake.getJob.mockResolvedValue(makeJob('running'));
    const done = model.applyPending();
    await until(() => model.job !== null);
    fake.cancelJob.mockResolvedValueOnce(makeJob('cancelled', { error: { code: 'cancelled', message: 'cancelled' } }));
    fake.getJob.mockResolvedValue(makeJob('cancelled', { error: { code: 'cancelled', message: 'cancelled' } }));
    await model.cancelJob();
    await done;
    expect(fake.cancelJob).toHaveBeenCalledWith('a'.repeat(32));
    expect(model.error?.code).toBe('cancelled');
    expect(model.job).toBeNull();
  });

  it('selects a new env once created, and default once the selected one is deleted', async () => {
    const { fake, model } = setup();
    await model.refresh();
    fake.getJob.mockResolvedValue(makeJob('succeeded', { verb: 'create', env: 'new' }));
    fake.envs = [...ENVS, { ...ENVS[1], name: 'new', kernel: 'userpkg-new' }];
    model.setCreateOpen(true);
    await model.createEnv({ name: 'new', kind: 'venv' });
    expect(model.selected).toBe('new');
    expect(model.createOpen).toBe(false);
    fake.getJob.mockResolvedValue(makeJob('succeeded', { verb: 'delete', env: 'new' }));
    fake.envs = [...ENVS];
    await model.deleteEnv('new');
    expect(model.selected).toBe('default');
  });

  it('refreshes on env events, and leaves a deleted env', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    fake.listEnvs.mockClear();
    fake.packages.mockClear();
    model.handleEvent(envEvent('demo', 'changed', 2));
    model.handleEvent(envEvent('demo', 'changed', 3));
    model.handleEvent(envEvent('demo', 'changed', 4));
    await model.refreshSoon();
    expect(fake.listEnvs.mock.calls.length).toBeLessThanOrEqual(2);
    expect(fake.packages).toHaveBeenCalledWith('demo');
    fake.envs = ENVS.filter(e => e.name !== 'demo');
    model.handleEvent(envEvent('demo', 'deleted', -1));
    await until(() => model.selected === 'default');
  });

  it('plans a rollback', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    await model.planRollback(0);
    expect(fake.rollbackPlan).toHaveBeenCalledWith('demo', 0);
    expect(model.pending?.kind).toBe('rollback');
    fake.getJob.mockResolvedValue(makeJob('succeeded', { verb: 'rollback' }));
    await model.applyPending();
    expect(fake.rollback).toHaveBeenCalledWith('demo', 0);
  });

  it('searches after a pause in typing, and drops older answers', async () => {
    const { fake, model } = setup();
    await model.refresh();
    fake.search.mockImplementation(async (q: string) => ({ query: q, results: [], notes: [], offline: false }));
    model.search.setQuery('n');
    model.search.setQuery('nu');
    model.search.setQuery('num');
    await until(() => model.search.result !== null);
    expect(fake.search).toHaveBeenCalledTimes(1);
    expect(fake.search).toHaveBeenCalledWith('num', 'pypi');
    await model.select('sci');
    expect(model.search.source).toBe('conda');
  });
});
