import { TranslationBundle } from '@jupyterlab/translation';

import type { IAppliedChange } from './model';

import { normalize } from './policy';

import { IChange, IChangeRequest, IResult } from './tokens';

/**
 * The names a request is about (`scipy>=1` -> `scipy`), normalised.
 */
export function requestedNames(request: IChangeRequest | null): Set<string> {
  const names = new Set<string>();
  for (const spec of [
    ...(request?.install ?? []),
    ...(request?.remove ?? []),
    ...(request?.update ?? [])
  ]) {
    const name = spec.trim().split(/[\s\[<>=!~;@(]/)[0];
    if (name) {
      names.add(normalize(name.replace(/^[^:]*::/, '')));
    }
  }
  return names;
}

function changeText(
  trans: TranslationBundle,
  change: IChange,
  env: string
): string {
  switch (change.action) {
    case 'add':
      return trans.__('%1 %2 installed in %3', change.name, change.new ?? '', env);
    case 'remove':
      return trans.__('%1 %2 removed from %3', change.name, change.old ?? '', env);
    default:
      return trans.__(
        '%1 changed from %2 to %3 in %4',
        change.name,
        change.old ?? '?',
        change.new ?? '?',
        env
      );
  }
}

/**
 * What a job that succeeded did, in one sentence for the notification:
 * "tabulate 0.10.0 installed in analysis, revision 2".
 *
 * The packages the request named are told by name; the rest are counted.
 */
export function appliedMessage(
  trans: TranslationBundle,
  applied: IAppliedChange
): string {
  const { job } = applied;
  if (job.verb === 'create') {
    return trans.__('Environment %1 created', job.env);
  }
  if (job.verb === 'delete') {
    return trans.__('Environment %1 deleted', job.env);
  }
  const result = job.result as IResult | null;
  const changes = result?.plan?.changes ?? job.plan?.changes ?? [];
  const revision = result?.revision ?? null;
  const wanted = requestedNames(applied.request);
  const named = changes.filter(c => wanted.has(normalize(c.name)));
  const main = named.length > 0 ? named : changes.length === 1 ? changes : [];
  let text: string;
  if (changes.length === 0) {
    text = trans.__('Nothing changed in %1', job.env);
  } else if (main.length === 0) {
    text = trans._n(
      '%1 package changed in %2',
      '%1 packages changed in %2',
      changes.length,
      job.env
    );
  } else {
    text = main.map(c => changeText(trans, c, job.env)).join('; ');
    const others = changes.length - main.length;
    if (others > 0) {
      text += trans._n(' (and %1 other package)', ' (and %1 other packages)', others);
    }
  }
  if (job.verb === 'rollback') {
    text = trans.__('Rolled back: %1', text);
  }
  return revision === null ? text : trans.__('%1, revision %2', text, revision);
}
