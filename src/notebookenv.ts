import type { ICreateEnvRequest } from './tokens';

/**
 * A notebook's `metadata.userpkg` (the server's `NotebookEnv`): the env its
 * kernel runs in, what was asked for, and its lock.
 */
export interface INotebookEnv {
  env: string;
  kind: string;
  python: string;
  channels: string[];
  requests: { pypi: string[]; conda: string[] };
  lock: { format: string; sha256: string; text?: string };
}

/** The metadata key the env is recorded under. */
export const METADATA_KEY = 'userpkg';

/** At most this many characters of one field are shown. */
export const MAX_TEXT = 80;

/** At most this many items of a list are shown. */
export const MAX_ITEMS = 12;

/**
 * What a banner shows of a notebook's env, every field capped: the metadata
 * comes from whoever wrote the notebook, so it is shown as plain text, short.
 */
export interface IEnvSummary {
  env: string;
  kind: string;
  python: string;
  channels: string[];
  pypi: string[];
  conda: string[];
  /** How many requests were left out of `pypi` and `conda` together. */
  more: number;
  /** The number of packages in the lock; null when it carries no text. */
  packages: number | null;
  /** The lock's packages as `name version`, capped. */
  locked: string[];
}

/**
 * Why a notebook's env needs the user: it is missing, or theirs differs.
 */
export type BannerReason = 'missing' | 'differs';

function strings(value: unknown): string[] | null {
  return Array.isArray(value) && value.every(v => typeof v === 'string')
    ? (value as string[])
    : null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The notebook's `metadata.userpkg` when it has the shape of one, else null.
 * Only the shape is checked here; the server checks every value on create.
 */
export function readNotebookEnv(value: unknown): INotebookEnv | null {
  if (!isObject(value) || !isObject(value.requests) || !isObject(value.lock)) {
    return null;
  }
  const { env, kind, python, lock } = value;
  const channels = strings(value.channels);
  const pypi = strings(value.requests.pypi);
  const conda = strings(value.requests.conda);
  if (
    typeof env !== 'string' ||
    env === '' ||
    typeof kind !== 'string' ||
    typeof python !== 'string' ||
    !channels ||
    !pypi ||
    !conda ||
    typeof lock.format !== 'string' ||
    typeof lock.sha256 !== 'string' ||
    (lock.text !== undefined && typeof lock.text !== 'string')
  ) {
    return null;
  }
  return value as unknown as INotebookEnv;
}

/**
 * `text` cut to `max` characters (an ellipsis says so), control characters
 * shown as spaces.
 */
export function capText(text: string, max = MAX_TEXT): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * The packages of an exported lock (`[[packages]]` tables), as `name version`.
 */
export function lockPackages(text: string): string[] {
  const found: string[] = [];
  for (const block of text.split(/^\[\[packages\]\]\s*$/m).slice(1)) {
    const name = /^name\s*=\s*"([^"]*)"/m.exec(block)?.[1] ?? '?';
    const version = /^version\s*=\s*"([^"]*)"/m.exec(block)?.[1] ?? '';
    found.push(version ? `${name} ${version}` : name);
  }
  return found;
}

/**
 * What a banner shows of `meta`, every string and list capped.
 */
export function summarize(meta: INotebookEnv): IEnvSummary {
  const cap = (items: string[]) => items.slice(0, MAX_ITEMS).map(s => capText(s));
  const text = meta.lock.text;
  const locked = text === undefined ? null : lockPackages(text);
  const more =
    Math.max(0, meta.requests.pypi.length - MAX_ITEMS) +
    Math.max(0, meta.requests.conda.length - MAX_ITEMS);
  return {
    env: capText(meta.env, 64),
    kind: capText(meta.kind, 16),
    python: capText(meta.python, 16),
    channels: cap(meta.channels),
    pypi: cap(meta.requests.pypi),
    conda: cap(meta.requests.conda),
    more,
    packages: locked === null ? null : locked.length,
    locked: locked === null ? [] : cap(locked)
  };
}

/**
 * Whether opening a notebook recording `meta` needs a banner: its env is not
 * among the user's `envs`, or the user's env of that name has another lock
 * (`userSha`, the sha256 of its export; null when unknown, and no banner).
 */
export function bannerReason(
  meta: INotebookEnv,
  envs: string[],
  userSha: string | null
): BannerReason | null {
  if (!envs.includes(meta.env)) {
    return 'missing';
  }
  if (userSha !== null && userSha.toLowerCase() !== meta.lock.sha256.toLowerCase()) {
    return 'differs';
  }
  return null;
}

/**
 * The name to create the notebook's env under: its own when free, else the
 * first free `<env>-2`, `<env>-3`...
 */
export function freeName(env: string, envs: string[]): string {
  if (!envs.includes(env)) {
    return env;
  }
  for (let i = 2; ; i++) {
    const name = `${env}-${i}`;
    if (!envs.includes(name)) {
      return name;
    }
  }
}

/**
 * `POST envs` creating `name` from the notebook's metadata: a notebook that
 * holds nothing but `metadata.userpkg`, as it was read (untouched, so that the
 * server checks what the notebook says, the lock's sha256 included).
 */
export function uploadBody(meta: unknown, name: string): ICreateEnvRequest {
  const notebook = { cells: [], metadata: { [METADATA_KEY]: meta } };
  return {
    name,
    file: { name: `${name}.ipynb`, content: JSON.stringify(notebook) }
  };
}

/**
 * The items of `notebooks` whose kernel runs in `env`, as the panel decides
 * "This notebook: ENV" (`envForKernel`); those without a kernel are left out.
 */
export function notebooksOnEnv<T>(
  notebooks: Iterable<T>,
  kernelOf: (notebook: T) => string | null | undefined,
  envForKernel: (kernel: string) => string,
  env: string
): T[] {
  const found: T[] = [];
  for (const notebook of notebooks) {
    const kernel = kernelOf(notebook);
    if (kernel && envForKernel(kernel) === env) {
      found.push(notebook);
    }
  }
  return found;
}

/**
 * Whether `next` says something other than `current` (so that writing it
 * would change the notebook).
 */
export function metadataDiffers(current: unknown, next: unknown): boolean {
  return JSON.stringify(current ?? null) !== JSON.stringify(next ?? null);
}
