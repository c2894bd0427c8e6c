import type { Kernel, KernelMessage } from '@jupyterlab/services';

import { IChange } from './tokens';

/**
 * Import names that differ from the package's name, for common packages.
 *
 * A plan names packages, a kernel knows modules; for the packages below the
 * two differ. Any other package is looked up under its own name with `-` and
 * `.` read as `_`, which is right for most of them and says nothing wrong
 * for the others (they are just not reported).
 */
const IMPORT_NAMES: Record<string, string[]> = {
  attrs: ['attr', 'attrs'],
  beautifulsoup4: ['bs4'],
  'msgpack-python': ['msgpack'],
  'opencv-python': ['cv2'],
  'opencv-python-headless': ['cv2'],
  'opencv-contrib-python': ['cv2'],
  pillow: ['PIL'],
  protobuf: ['google'],
  'psycopg2-binary': ['psycopg2'],
  pycryptodome: ['Crypto'],
  pyjwt: ['jwt'],
  pymupdf: ['fitz'],
  'python-dateutil': ['dateutil'],
  'python-dotenv': ['dotenv'],
  pytz: ['pytz'],
  pyyaml: ['yaml'],
  pyzmq: ['zmq'],
  'scikit-image': ['skimage'],
  'scikit-learn': ['sklearn'],
  setuptools: ['setuptools', 'pkg_resources', '_distutils_hack'],
  'typing-extensions': ['typing_extensions'],
  ipython: ['IPython'],
  'pywin32': ['win32api', 'win32con', 'pywintypes'],
  'mysqlclient': ['MySQLdb'],
  'tensorflow-cpu': ['tensorflow'],
  'torch-cpu': ['torch']
};

/**
 * PEP 503's normalised name.
 */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The top-level module names a package is likely imported as.
 */
export function importNames(packageName: string): string[] {
  const canonical = canonicalName(packageName);
  const known = IMPORT_NAMES[canonical];
  const own = canonical.replace(/-/g, '_');
  return known ? Array.from(new Set([...known, own])) : [own];
}

/**
 * A module the kernel had imported whose package a change replaced.
 */
export interface IStaleModule {
  /** The top-level module, as imported. */
  module: string;
  /** The package that changed. */
  package: string;
  /** What happened to the package. */
  action: IChange['action'];
}

/**
 * The imported top-level modules whose packages `changes` replaced.
 *
 * `modules` are the kernel's top-level names (`sys.modules` before the first
 * dot); comparison ignores case, as import names differ from package names in
 * case only for some packages (`PIL`, `IPython`). `provided` are the import
 * names the server read from the changed distributions' own files before the
 * change (a plan's `modules`): for a package it names, those are used
 * exactly; for the others, the names guessed from the package's name.
 */
export function staleModules(
  changes: IChange[],
  modules: string[],
  provided: Record<string, string[]> = {}
): IStaleModule[] {
  const exact = new Map<string, string[]>();
  for (const [name, names] of Object.entries(provided)) {
    exact.set(canonicalName(name), names);
  }
  const imported = new Map<string, string>();
  for (const name of modules) {
    imported.set(name.toLowerCase(), name);
  }
  const out: IStaleModule[] = [];
  const seen = new Set<string>();
  for (const change of changes) {
    const candidates =
      exact.get(canonicalName(change.name)) ?? importNames(change.name);
    for (const candidate of candidates) {
      const module = imported.get(candidate.toLowerCase());
      if (module !== undefined && !seen.has(module)) {
        seen.add(module);
        out.push({ module, package: change.name, action: change.action });
      }
    }
  }
  return out;
}

/**
 * The expression that lists a kernel's imported top-level modules, one
 * string separated by blanks (module names hold none).
 */
export const MODULES_EXPRESSION =
  '" ".join(sorted({_m.partition(".")[0] for _m in list(__import__("sys").modules)}))';

/**
 * Ask a Python kernel, silently, which top-level modules it has imported.
 *
 * Nothing shows in the notebook and nothing enters its history: the code is
 * empty and the answer comes back as a user expression. A kernel that does not
 * answer within `timeout` ms (busy with a long cell), or is not Python,
 * answers `null`.
 */
export async function kernelModules(
  kernel: Kernel.IKernelConnection,
  timeout = 5000
): Promise<string[] | null> {
  const future = kernel.requestExecute(
    {
      code: '',
      silent: true,
      store_history: false,
      user_expressions: { modules: MODULES_EXPRESSION },
      allow_stdin: false,
      stop_on_error: false
    },
    true
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<null>(resolve => {
    timer = setTimeout(() => resolve(null), timeout);
  });
  try {
    const reply = await Promise.race([future.done, timedOut]);
    if (!reply) {
      future.dispose();
      return null;
    }
    return parseModulesReply(reply);
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The module names in an execute reply's user expression.
 */
export function parseModulesReply(
  reply: KernelMessage.IExecuteReplyMsg
): string[] | null {
  const content = reply.content as {
    status: string;
    user_expressions?: Record<string, unknown>;
  };
  if (content.status !== 'ok' || !content.user_expressions) {
    return null;
  }
  const value = content.user_expressions['modules'] as
    | { status?: string; data?: Record<string, unknown> }
    | undefined;
  const text = value?.data?.['text/plain'];
  if (value?.status !== 'ok' || typeof text !== 'string') {
    return null;
  }
  // The repr of a str: strip its quotes.
  const inner = text.replace(/^'(.*)'$/s, '$1').replace(/^"(.*)"$/s, '$1');
  return inner.split(/\s+/).filter(name => /^[A-Za-z_][\w]*$/.test(name));
}
