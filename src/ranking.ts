import { normalize } from './policy';

import { IPackage, ISearchHit } from './tokens';

/**
 * How a name matches a query, best first: the name itself; the query as a
 * whole hyphen/underscore/dot segment (`python-slugify`, `slugify-cli` for
 * `slugify`); the start of the name; anywhere in it.
 */
export type MatchClass = 'exact' | 'segment' | 'prefix' | 'substring' | 'none';

const ORDER: Record<MatchClass, number> = {
  exact: 0,
  segment: 1,
  prefix: 2,
  substring: 3,
  none: 4
};

/**
 * How `name` matches `query` (both compared in their normalised forms).
 */
export function matchClass(name: string, query: string): MatchClass {
  const n = normalize(name);
  const q = normalize(query.trim());
  if (!q) {
    return 'none';
  }
  if (n === q) {
    return 'exact';
  }
  if (`-${n}-`.includes(`-${q}-`)) {
    return 'segment';
  }
  if (n.startsWith(q)) {
    return 'prefix';
  }
  return n.includes(q) ? 'substring' : 'none';
}

/**
 * Where a package is installed: its version in the env shown, and the
 * user's other envs that hold it.
 */
export interface IInstalledMark {
  here: string | null;
  elsewhere: Array<{ env: string; version: string }>;
}

/**
 * What the user's envs hold, by normalised name: the env shown (`packages`)
 * and the others. Base packages of a layer count as installed.
 */
export function installedIndex(
  selected: string,
  packages: IPackage[],
  others: Map<string, IPackage[]>
): Map<string, IInstalledMark> {
  const index = new Map<string, IInstalledMark>();
  const mark = (name: string) => {
    const key = normalize(name);
    let found = index.get(key);
    if (!found) {
      found = { here: null, elsewhere: [] };
      index.set(key, found);
    }
    return found;
  };
  for (const pkg of packages) {
    mark(pkg.name).here = pkg.version;
  }
  for (const [env, envPackages] of others) {
    if (env === selected) {
      continue;
    }
    for (const pkg of envPackages) {
      if (pkg.source !== 'base') {
        mark(pkg.name).elsewhere.push({ env, version: pkg.version });
      }
    }
  }
  return index;
}

/**
 * Search hits in the order a user means them: installed in the env shown
 * first, then installed in another env, then by how the name matches
 * (exact, segment, prefix, substring); the server's order otherwise.
 */
export function rankHits(
  hits: ISearchHit[],
  query: string,
  installed: Map<string, IInstalledMark> = new Map()
): ISearchHit[] {
  const score = (hit: ISearchHit) => {
    const mark = installed.get(normalize(hit.name));
    const where = mark?.here ? 0 : mark && mark.elsewhere.length > 0 ? 1 : 2;
    return [where, ORDER[matchClass(hit.name, query)]];
  };
  return hits
    .map((hit, at) => ({ hit, at, score: score(hit) }))
    .sort(
      (a, b) => a.score[0] - b.score[0] || a.score[1] - b.score[1] || a.at - b.at
    )
    .map(entry => entry.hit);
}
