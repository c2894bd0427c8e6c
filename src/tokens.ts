/**
 * Shapes of the jupyter-userpkg REST API and of its events, as
 * `jupyter_userpkg/openapi.yaml` and `docs/rest-api.md` describe them.
 *
 * Clients ignore fields they do not know: the server may add new ones.
 */

/**
 * Schema id of the job events on Jupyter's event bus.
 */
export const JOB_EVENT_SCHEMA =
  'https://events.jupyter.org/jupyter_userpkg/job/v1';

/**
 * Schema id of the environment events on Jupyter's event bus.
 */
export const ENV_EVENT_SCHEMA =
  'https://events.jupyter.org/jupyter_userpkg/env/v1';

/**
 * Prefix of the kernelspec name of an environment (`userpkg-<env>`).
 */
export const KERNEL_PREFIX = 'userpkg-';

/**
 * The environment every command uses when none is named.
 */
export const DEFAULT_ENV = 'default';

/**
 * A kind's name, as `GET kinds` lists it (or `broken`: an env whose
 * metadata cannot be read). The panel asks a kind what it can do
 * (`IKind`), never which one it is.
 */
export type EnvKind = string;
export type PackageSource = 'conda' | 'pypi' | 'base';
export type ChangeAction = 'add' | 'remove' | 'change';
export type JobState =
  | 'queued'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'cancelled';
export type JobVerb = 'create' | 'change' | 'rollback' | 'delete';
export type ExportFormat = 'requirements' | 'environment' | 'lock';
export type SearchSource = 'pypi' | 'conda';

/**
 * A kind of environment and what it can do (`GET kinds`): the create form and
 * the actions are built from these.
 */
export interface IKind {
  name: EnvKind;
  /** One line saying what it is for. */
  summary: string;
  /** The kind of an env created without one. */
  default: boolean;
  /** It extends the server's Python environment and sees its packages. */
  base: boolean;
  /** It takes packages from conda channels (linked from a package cache). */
  channels: boolean;
  /** A create may choose its Python version. */
  python_version: boolean;
  /** It holds PyPI packages. */
  pypi: boolean;
  /** The export formats it writes. */
  exports: ExportFormat[];
}

/**
 * The machine code of a change the administrator's policy refuses.
 */
export const POLICY_DENIED = 'policy_denied';

/**
 * `GET health`.
 */
export interface IHealth {
  status: string;
  version: string;
  envs: number;
}

/**
 * An environment (`GET envs`, `GET envs/{env}`).
 */
export interface IEnv {
  name: string;
  kind: EnvKind;
  path: string;
  /** Its kernelspec name (`userpkg-<env>`), or null. */
  kernel: string | null;
  /** Packages in its locks. */
  packages: number;
  /** Current revision; -1 when broken. */
  revision: number;
  /** Python version `X.Y`, or "". */
  python?: string;
  /** What it holds that the administrator's policy now refuses. */
  advisories?: IAdvisory[];
  /** An administrator's shared env: read-only to the user. */
  shared?: boolean;
  /** A layer over a shared env: that env's name ("" for any other). */
  over?: string;
  /** What the user must know of it (a layer whose shared base changed, a name clash). */
  notes?: string[];
  /** Its kernelspecs: the Python one and those its packages ship (R, Julia...). */
  kernels?: IEnvKernel[];
}

/**
 * One kernelspec of an env (`IEnv.kernels`).
 */
export interface IEnvKernel {
  name: string;
  display_name: string;
  language: string;
}

/**
 * The kernelspec `name` of any of `envs`, with its env; null when none has it.
 */
export function envKernel(
  envs: IEnv[],
  name: string | null | undefined
): { env: string; kernel: IEnvKernel } | null {
  const lower = (name ?? '').toLowerCase();
  for (const env of envs) {
    const kernel = (env.kernels ?? []).find(k => k.name.toLowerCase() === lower);
    if (kernel) {
      return { env: env.name, kernel };
    }
  }
  return null;
}

/**
 * Why the administrator's policy refuses a package or a version.
 */
export interface IVerdict {
  /** The policy's rule, as written (`blocked_versions: requests <2.31`). */
  rule: string;
  /** Its reason; may be empty. */
  reason: string;
  /** An advisory id (`PYSEC-2023-74`); may be empty. */
  advisory: string;
}

/**
 * A package an environment holds that the policy now refuses, with the
 * command that fixes it.
 */
export interface IAdvisory extends IVerdict {
  package: string;
  version: string;
  /** `pypi` or `conda` (empty for a rule about the environment itself). */
  source: string;
  /** The command without the program's name: `update requests -n analysis`. */
  fix: string;
  /** The fix as a change request, when it is one (`delete ENV` is not). */
  change?: IAdvisoryChange | null;
}

/**
 * An advisory's fix as a structured change: what to do to which packages of which env.
 */
export interface IAdvisoryChange {
  verb: 'update' | 'remove' | 'install';
  env: string;
  packages: string[];
}

/**
 * The environments that violate the policy (`GET policy?check=true`).
 */
export interface IPolicyViolations {
  /** Null for a rule about all of them (`max_envs`). */
  env: string | null;
  violations: IAdvisory[];
}

/**
 * `GET policy`: the effective policy and where each part came from.
 */
export interface IPolicyAnswer {
  /** Every rule, an unset one with its default. */
  policy: Record<string, unknown>;
  /** Each rule that is set, and the file or URL it came from. */
  origins: Record<string, string>;
  /** Where policies are looked for (found or not). */
  sources: string[];
  notes: string[];
  /**
   * Why the policy cannot be read; until it is fixed, every package is
   * refused. Null when it was read.
   */
  error?: string | null;
  /** With `check=true`. */
  violations?: IPolicyViolations[];
}

/**
 * An installed package (`GET envs/{env}/packages`).
 */
export interface IPackage {
  name: string;
  version: string;
  source: PackageSource;
  /** PyPI and base packages: the index the lock records, if any. */
  index?: string | null;
  /** conda packages: the channel's URL. */
  channel?: string;
  /** Whether the user asked for it. */
  requested: boolean;
}

/**
 * One change of a plan or a revision.
 */
export interface IChange {
  name: string;
  action: ChangeAction;
  old: string | null;
  new: string | null;
  source: PackageSource | string;
}

/**
 * A revision of an environment (`GET envs/{env}/history`).
 */
export interface IRevision {
  revision: number;
  /** ISO 8601, UTC. */
  time: string;
  command: string;
  user?: string;
  changes: IChange[];
}

/**
 * What a change would do (`POST envs/{env}/plan`, rollback with `dry_run`).
 */
export interface IPlan {
  env: string;
  command?: string;
  changes: IChange[];
  download_bytes: number;
  from_revision?: number;
  messages?: string[];
  /**
   * The import names of each distribution the plan replaces or removes, read
   * from its files before the change (`POST plan`, a rollback's dry run).
   */
  modules?: Record<string, string[]>;
}

/**
 * Body of `POST envs/{env}/plan` and `POST envs/{env}/transactions`.
 */
export interface IChangeRequest {
  install?: string[];
  remove?: string[];
  update?: string[];
  update_all?: boolean;
  pypi?: boolean;
}

/**
 * A file to create an environment from.
 */
export interface IUploadedFile {
  name: string;
  content: string;
}

/**
 * Body of `POST envs`.
 */
export interface ICreateEnvRequest {
  name: string;
  kind?: EnvKind;
  python?: string;
  channels?: string[];
  specs?: string[];
  pypi_specs?: string[];
  kernel?: boolean;
  file?: IUploadedFile;
  /** A layer of the user's own over this shared env (it takes that env's kind). */
  over?: string;
}

/**
 * One step of a job's progress.
 */
export interface IJobEvent {
  phase: string;
  message: string;
  package?: string | null;
  done?: number | null;
  total?: number | null;
  time?: number;
}

/**
 * An error, as the server and a failed job state it.
 */
export interface IError {
  code: string;
  message: string;
  details?: string | null;
}

/**
 * What an applied create, change or rollback did.
 */
export interface IResult {
  plan: IPlan;
  revision: number | null;
  applied: boolean;
  timings?: Record<string, number>;
}

/**
 * What a delete job did.
 */
export interface IDeleted {
  deleted: string;
}

/**
 * Long work (`POST envs`, `DELETE envs/{env}`, transactions, rollback).
 */
export interface IJob {
  id: string;
  env: string;
  verb: JobVerb;
  command?: string;
  state: JobState;
  created?: string;
  started?: string | null;
  finished?: string | null;
  cancel_requested?: boolean;
  plan: IPlan | null;
  events: IJobEvent[];
  event_count?: number;
  result: IResult | IDeleted | null;
  error: IError | null;
}

/**
 * One package found by `GET search`.
 */
export interface ISearchHit {
  name: string;
  source: SearchSource;
  index?: string;
  channel?: string;
  version: string | null;
  summary: string | null;
  match: 'exact' | 'segment' | 'prefix' | 'substring';
  /** Why the policy refuses it (its newest version, or the package); null: it does not. */
  blocked?: IVerdict | null;
  /** True when the administrator's filtered mirror holds it; null: no mirror says. */
  in_mirror?: boolean | null;
}

/**
 * `GET search`.
 */
export interface ISearchResult {
  query: string;
  results: ISearchHit[];
  notes: string[];
  offline: boolean;
  /** Close names the index has, when none is the query itself ("did you mean"). */
  suggestions?: string[];
}

/**
 * `GET packages/{name}`.
 */
export interface IPackageInfo {
  name: string;
  source: SearchSource;
  index?: string;
  channel?: string;
  summary: string | null;
  /** Newest first. */
  versions: string[];
  latest: string | null;
  license: string | null;
  home_page: string | null;
  requires_python: string | null;
  notes: string[];
  offline: boolean;
  depends?: string[];
  subdir?: string | null;
  /** Why the policy refuses the package as a whole; null: it does not. */
  blocked?: IVerdict | null;
  /** The versions the policy refuses (the package itself being allowed). */
  blocked_versions?: Record<string, IVerdict>;
}

/**
 * An exported file.
 */
export interface IExportedFile {
  filename: string;
  content: string;
  contentType: string;
}

/**
 * `https://events.jupyter.org/jupyter_userpkg/job/v1`.
 */
export interface IJobBusEvent {
  schema_id: typeof JOB_EVENT_SCHEMA;
  id: string;
  env: string;
  verb: JobVerb;
  state: JobState;
  event?: IJobEvent;
  error?: IError;
}

/**
 * `https://events.jupyter.org/jupyter_userpkg/env/v1`.
 */
export interface IEnvBusEvent {
  schema_id: typeof ENV_EVENT_SCHEMA;
  env: string;
  action: 'created' | 'changed' | 'deleted';
  revision: number;
}

/**
 * Whether a job has ended.
 */
export function isFinished(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/**
 * The environment a kernelspec name belongs to: `userpkg-<env>` is `<env>`,
 * any other kernel runs the base interpreter, where `default` applies.
 */
export function envOfKernel(kernelName: string | null | undefined): string {
  if (kernelName && kernelName.startsWith(KERNEL_PREFIX)) {
    const env = kernelName.slice(KERNEL_PREFIX.length);
    if (env) {
      return env;
    }
  }
  return DEFAULT_ENV;
}
