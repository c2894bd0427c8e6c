import { IPackage } from './tokens';

/**
 * Which packages the list shows besides the ones the user asked for.
 */
export interface IListOptions {
  /** Show the dependencies the env installed for them. */
  dependencies: boolean;
  /** Show the base environment's packages (an env over the base). */
  base: boolean;
}

/**
 * The packages of an env in the groups the list shows them in.
 */
export interface IPackageGroups {
  /**
   * What the user asked for; in an env over the base, also what it adds to
   * the base for them (its own packages).
   */
  requested: IPackage[];
  /** Installed because something else needs them. */
  dependencies: IPackage[];
  /** The base environment's packages (an env over the base). */
  base: IPackage[];
}

/**
 * The counts the list states, before any filter.
 */
export interface IPackageCounts {
  requested: number;
  dependencies: number;
  base: number;
  total: number;
}

/**
 * What the list shows: the groups (filtered, and those the options hide
 * left out) and the counts of every group.
 */
export interface IPackageListView {
  groups: IPackageGroups;
  counts: IPackageCounts;
  /** How many rows are shown. */
  shown: number;
  /** Whether a filter is in effect (it looks through every group). */
  filtered: boolean;
}

/**
 * A name as the filter compares it: lower case, runs of `-_.` as one `-`.
 */
export function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * The packages whose name contains `filter` (case and `-_.` ignored).
 */
export function filterPackages(
  packages: IPackage[],
  filter: string
): IPackage[] {
  const wanted = normalise(filter.trim());
  if (!wanted) {
    return packages;
  }
  return packages.filter(pkg => normalise(pkg.name).includes(wanted));
}

/**
 * Split an env's packages into what the user asked for, dependencies and
 * the base, each in name order.
 *
 * In an env over the base (its kind's `base`) the env's own packages all
 * count as asked for: they are what it adds to the base; the base's packages
 * are the base group.
 */
export function groupPackages(
  packages: IPackage[],
  extendsBase: boolean
): IPackageGroups {
  const groups: IPackageGroups = { requested: [], dependencies: [], base: [] };
  for (const pkg of packages) {
    if (pkg.source === 'base') {
      groups.base.push(pkg);
    } else if (pkg.requested || extendsBase) {
      groups.requested.push(pkg);
    } else {
      groups.dependencies.push(pkg);
    }
  }
  const keys = new Map(packages.map(p => [p, normalise(p.name)]));
  const byName = (a: IPackage, b: IPackage) => {
    const [x, y] = [keys.get(a)!, keys.get(b)!];
    return x < y ? -1 : x > y ? 1 : 0;
  };
  groups.requested.sort(byName);
  groups.dependencies.sort(byName);
  groups.base.sort(byName);
  return groups;
}

/**
 * What the list shows of `packages`: the requested ones, and dependencies
 * and base packages when the options ask for them. A filter looks through
 * every group, shown or not, so that nothing installed is hard to find.
 */
export function packageListView(
  packages: IPackage[],
  extendsBase: boolean,
  options: IListOptions,
  filter = ''
): IPackageListView {
  const all = groupPackages(packages, extendsBase);
  const counts: IPackageCounts = {
    requested: all.requested.length,
    dependencies: all.dependencies.length,
    base: all.base.length,
    total: packages.length
  };
  const filtered = filter.trim() !== '';
  const groups: IPackageGroups = filtered
    ? {
        requested: filterPackages(all.requested, filter),
        dependencies: filterPackages(all.dependencies, filter),
        base: filterPackages(all.base, filter)
      }
    : {
        requested: all.requested,
        dependencies: options.dependencies ? all.dependencies : [],
        base: options.base ? all.base : []
      };
  const shown =
    groups.requested.length + groups.dependencies.length + groups.base.length;
  return { groups, counts, shown, filtered };
}

/**
 * Whether a package can be removed on its own: what the user asked for
 * (a dependency goes with what needs it; the base is not the user's).
 */
export function removable(pkg: IPackage): boolean {
  if (pkg.source === 'base') {
    return false;
  }
  return pkg.requested;
}
