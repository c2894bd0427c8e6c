import type { UserPkgService } from '../service';

import {
  IEnv,
  IJob,
  IKind,
  IPackage,
  IPlan,
  IRevision,
  JOB_EVENT_SCHEMA,
  ENV_EVENT_SCHEMA,
  JobState
} from '../tokens';

export const ENVS: IEnv[] = [
  { name: 'default', kind: 'layer', path: '/e/default', kernel: 'userpkg-default', packages: 0, revision: 0, python: '3.11' },
  { name: 'demo', kind: 'venv', path: '/e/demo', kernel: 'userpkg-demo', packages: 1, revision: 1, python: '3.11' },
  { name: 'sci', kind: 'conda', path: '/e/sci', kernel: 'userpkg-sci', packages: 3, revision: 0, python: '3.11' }
];

/** `GET kinds` as the server answers it today. */
export const KINDS: IKind[] = [
  { name: 'layer', summary: "a layer over the server's Python: sees its packages, adds your own", default: true, base: true, channels: false, python_version: false, pypi: true, exports: ['requirements', 'environment', 'lock'] },
  { name: 'venv', summary: 'an isolated venv: PyPI packages only, any Python version', default: false, base: false, channels: false, python_version: true, pypi: true, exports: ['requirements', 'environment', 'lock'] },
  { name: 'conda', summary: 'a conda prefix: packages from conda channels, PyPI packages on top', default: false, base: false, channels: true, python_version: true, pypi: true, exports: ['environment', 'lock'] }
];

export const PACKAGES: Record<string, IPackage[]> = {
  default: [{ name: 'numpy', version: '1.26.4', source: 'base', index: null, requested: false }],
  demo: [{ name: 'tabulate', version: '0.8.10', source: 'pypi', index: null, requested: true }],
  sci: [{ name: 'numpy', version: '2.1.3', source: 'conda', channel: 'file:///c/chan', requested: true }]
};

export const PLAN: IPlan = {
  env: 'demo',
  command: 'install pyyaml numpy==2.1.3',
  changes: [
    { name: 'PyYAML', action: 'add', old: null, new: '6.0.2', source: 'pypi' },
    { name: 'numpy', action: 'change', old: '1.26.4', new: '2.1.3', source: 'pypi' }
  ],
  download_bytes: 1234,
  from_revision: 1,
  messages: []
};

export function makeJob(state: JobState, extra: Partial<IJob> = {}): IJob {
  return {
    id: 'a'.repeat(32),
    env: 'demo',
    verb: 'change',
    state,
    plan: null,
    events: [],
    result: null,
    error: null,
    ...extra
  };
}

export function jobEvent(state: JobState, extra: Record<string, unknown> = {}) {
  return { schema_id: JOB_EVENT_SCHEMA, id: 'a'.repeat(32), env: 'demo', verb: 'change', state, ...extra };
}

export function envEvent(env: string, action: string, revision = 1) {
  return { schema_id: ENV_EVENT_SCHEMA, env, action, revision };
}

/**
 * A service whose answers the tests set; every method is a jest mock.
 */
export class FakeService {
  envs: IEnv[] = [...ENVS];
  revisions: Record<string, IRevision[]> = {};
  kindList: IKind[] = [...KINDS];
  kinds = jest.fn(async () => this.kindList);
  listEnvs = jest.fn(async () => this.envs);
  packages = jest.fn(async (env: string) => PACKAGES[env] ?? []);
  history = jest.fn(async (env: string) => this.revisions[env] ?? []);
  plan = jest.fn(async (_env: string, _change: unknown): Promise<IPlan> => PLAN);
  rollbackPlan = jest.fn(async (env: string, _revision: number): Promise<IPlan> => ({ ...PLAN, env }));
  applyChange = jest.fn(async (): Promise<IJob> => makeJob('queued'));
  rollback = jest.fn(async (): Promise<IJob> => makeJob('queued', { verb: 'rollback' }));
  createEnv = jest.fn(async (): Promise<IJob> => makeJob('queued', { verb: 'create', env: 'new' }));
  deleteEnv = jest.fn(async (): Promise<IJob> => makeJob('queued', { verb: 'delete' }));
  getJob = jest.fn(async (_id: string): Promise<IJob> => makeJob('running'));
  cancelJob = jest.fn(async (): Promise<IJob> => makeJob('running', { cancel_requested: true }));
  search = jest.fn();
  packageInfo = jest.fn();
  exportEnv = jest.fn();
  policy = jest.fn();

  asService(): UserPkgService {
    return this as unknown as UserPkgService;
  }
}
