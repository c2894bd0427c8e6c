import { TranslationBundle } from '@jupyterlab/translation';

import {
  IAdvisory,
  IChangeRequest,
  IPackageInfo,
  IPolicyAnswer,
  IVerdict
} from './tokens';

/**
 * An advisory's fix as the panel applies it.
 */
export interface IFix {
  verb: 'update' | 'remove' | 'install';
  names: string[];
  /** The env it names; null: the selected one. */
  env: string | null;
  /** The change as `POST envs/{env}/plan` takes it. */
  request: IChangeRequest;
}

/**
 * An advisory's fix as a change the panel plans: the server's structured change
 * request, taken as it is. A fix that is no change of packages (`delete ENV`,
 * `doctor -n ENV`) has none, and the panel shows its command for the user to run.
 */
export function fixOf(advisory: IAdvisory): IFix | null {
  const change = advisory.change;
  if (!change) {
    return null;
  }
  const names = [...change.packages];
  const request: IChangeRequest =
    change.verb === 'update'
      ? { update: names }
      : change.verb === 'remove'
        ? { remove: names }
        : { install: names };
  return { verb: change.verb, names, env: change.env, request };
}

/**
 * Why the policy refuses something, in one line:
 * `blocked by the administrator's policy (rule): reason (advisory X)`.
 */
export function verdictText(trans: TranslationBundle, verdict: IVerdict): string {
  let text = trans.__("blocked by the administrator's policy (%1)", verdict.rule);
  if (verdict.reason) {
    text = trans.__('%1: %2', text, verdict.reason);
  }
  if (verdict.advisory) {
    text = trans.__('%1 (advisory %2)', text, verdict.advisory);
  }
  return text;
}

/**
 * The versions a version picker offers: those the policy does not refuse,
 * none at all when it refuses the package.
 */
export function allowedVersions(info: IPackageInfo): string[] {
  if (info.blocked) {
    return [];
  }
  const blocked = info.blocked_versions ?? {};
  return info.versions.filter(version => !(version in blocked));
}

/**
 * The advisories about one package, by its name (compared the PyPI way).
 */
export function advisoriesOf(
  advisories: IAdvisory[],
  name: string
): IAdvisory[] {
  const key = normalize(name);
  return advisories.filter(a => normalize(a.package) === key);
}

/**
 * A package name as PyPI and conda compare it.
 */
export function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * A rule that is set, with its value in lines and where it came from.
 */
export interface IPolicyRule {
  name: string;
  values: string[];
  origin: string;
}

/**
 * The rules an answer of `GET policy` says are set, in the policy's order.
 */
export function policyRules(answer: IPolicyAnswer): IPolicyRule[] {
  const origins = answer.origins ?? {};
  const known = Object.keys(answer.policy ?? {});
  const names = [
    ...known.filter(name => name in origins),
    ...Object.keys(origins).filter(name => !known.includes(name))
  ];
  return names.map(name => ({
    name,
    values: ruleValues(answer.policy?.[name]),
    origin: origins[name]
  }));
}

/**
 * A rule's value as lines of text: one per list item.
 */
export function ruleValues(value: unknown): string[] {
  if (value === null || value === undefined || value === '') {
    return [];
  }
  if (Array.isArray(value)) {
    return value.map(item => ruleItem(item));
  }
  return [ruleItem(value)];
}

function ruleItem(item: unknown): string {
  if (item === null || item === undefined) {
    return '';
  }
  if (typeof item !== 'object') {
    return String(item);
  }
  const fields = item as Record<string, unknown>;
  const text = (key: string) =>
    typeof fields[key] === 'string' || typeof fields[key] === 'number'
      ? String(fields[key])
      : '';
  let line = [text('name'), text('versions')].filter(Boolean).join(' ');
  if (text('source')) {
    line += ` [${text('source')}]`;
  }
  if (text('reason')) {
    line += `: ${text('reason')}`;
  }
  if (text('advisory')) {
    line += ` (${text('advisory')})`;
  }
  const others = Object.keys(fields).filter(
    key => !['name', 'versions', 'source', 'reason', 'advisory'].includes(key)
  );
  const rest = others.map(key => `${key} ${ruleItem(fields[key])}`);
  return [line.trim(), ...rest].filter(Boolean).join(', ');
}
