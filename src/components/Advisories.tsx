import { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

import { warningIcon } from '../icons';

import { IFix, fixOf, verdictText } from '../policy';

import { IAdvisory } from '../tokens';

import { keepWords } from './controls';

/**
 * Properties of the advisories of an env.
 */
export interface IAdvisoriesProps {
  trans: TranslationBundle;
  env: string;
  advisories: IAdvisory[];
  busy: boolean;
  /** Plan the advisory's fix. */
  onFix: (advisory: IAdvisory) => void;
}

/**
 * One advisory in one line: `requests 2.30.0: blocked by the administrator's
 * policy (rule): reason (advisory X)`.
 */
export function advisoryText(
  trans: TranslationBundle,
  advisory: IAdvisory
): string {
  const what = [advisory.package, advisory.version].filter(Boolean).join(' ');
  return trans.__('%1: %2', what, verdictText(trans, advisory));
}

/**
 * The advisories of an env, one a line (a tooltip's text).
 */
export function advisoriesTooltip(
  trans: TranslationBundle,
  advisories: IAdvisory[]
): string {
  return advisories.map(a => advisoryText(trans, a)).join('\n');
}

/**
 * The label of a fix's button: "Update requests", "Remove requests".
 */
export function fixLabel(trans: TranslationBundle, fix: IFix): string {
  const names = fix.names.join(' ');
  switch (fix.verb) {
    case 'update':
      return trans.__('Update %1', names);
    case 'remove':
      return trans.__('Remove %1', names);
    default:
      return trans.__('Install %1', names);
  }
}

/**
 * The warning mark of an env with advisories: a count, with the advisories
 * in its tooltip.
 */
export function AdvisoryMark(props: {
  trans: TranslationBundle;
  advisories: IAdvisory[];
}): JSX.Element | null {
  const { trans, advisories } = props;
  if (advisories.length === 0) {
    return null;
  }
  const tooltip = advisoriesTooltip(trans, advisories);
  return (
    <span
      className="jp-userpkg-advisory-mark"
      role="img"
      tabIndex={0}
      title={tooltip}
      aria-label={trans._n(
        '%1 package the policy refuses: %2',
        '%1 packages the policy refuses: %2',
        advisories.length,
        tooltip
      )}
      data-count={advisories.length}
    >
      <warningIcon.react tag="span" />
      <span className="jp-userpkg-advisory-count">{advisories.length}</span>
    </span>
  );
}

/**
 * What an env holds that the administrator's policy now refuses (a version
 * with a security advisory, say), each with the button that plans its fix.
 */
export function Advisories(props: IAdvisoriesProps): JSX.Element | null {
  const { trans, advisories } = props;
  if (advisories.length === 0) {
    return null;
  }
  return (
    <section
      className="jp-userpkg-advisories"
      aria-label={trans.__('Policy advisories')}
      data-env={props.env}
    >
      <h3 className="jp-userpkg-section-title">
        <warningIcon.react tag="span" className="jp-userpkg-inline-icon" />{' '}
        {keepWords(
          trans._n(
            '%2 holds %1 package the administrator\'s policy refuses',
            '%2 holds %1 packages the administrator\'s policy refuses',
            advisories.length,
            props.env
          )
        )}
      </h3>
      <ul className="jp-userpkg-advisory-list">
        {advisories.map(advisory => (
          <AdvisoryItem
            key={`${advisory.source}:${advisory.package}:${advisory.rule}`}
            trans={trans}
            advisory={advisory}
            busy={props.busy}
            onFix={props.onFix}
          />
        ))}
      </ul>
    </section>
  );
}

function AdvisoryItem(props: {
  trans: TranslationBundle;
  advisory: IAdvisory;
  busy: boolean;
  onFix: (advisory: IAdvisory) => void;
}): JSX.Element {
  const { trans, advisory } = props;
  const fix = fixOf(advisory);
  return (
    <li
      className="jp-userpkg-advisory"
      data-package={advisory.package}
      data-version={advisory.version}
    >
      <div className="jp-userpkg-advisory-what">
        <span className="jp-userpkg-advisory-package">
          {[advisory.package, advisory.version].filter(Boolean).join(' ')}
        </span>
        {advisory.advisory && (
          <span className="jp-userpkg-advisory-id">
            {trans.__('advisory %1', advisory.advisory)}
          </span>
        )}
      </div>
      {advisory.reason && (
        <div className="jp-userpkg-advisory-reason">{keepWords(advisory.reason)}</div>
      )}
      <div className="jp-userpkg-advisory-rule">
        {keepWords(trans.__('Rule: %1', advisory.rule))}
      </div>
      {fix ? (
        <Button
          className="jp-userpkg-advisory-fix"
          small
          disabled={props.busy}
          data-fix={advisory.fix}
          title={trans.__('Plan the fix: %1', advisory.fix)}
          onClick={() => props.onFix(advisory)}
        >
          {fixLabel(trans, fix)}
        </Button>
      ) : (
        <div className="jp-userpkg-advisory-command">
          {trans.__('Fix:')} <code>{advisory.fix}</code>
        </div>
      )}
    </li>
  );
}
