import type { TranslationBundle } from '@jupyterlab/translation';

import { Button } from '@jupyterlab/ui-components';

import * as React from 'react';

/**
 * Why a package is said to provide a module (the server's `ProvidesEvidence`).
 */
export interface IProvidesEvidence {
  kind: 'installed' | 'import-name' | 'record' | 'conda-channel';
  text: string;
  where: string[];
  version: string | null;
}

/**
 * `GET provides?name=&env=`: which package provides an import name.
 */
export interface IProvidesAnswer {
  name: string;
  module: string;
  env: string;
  found: boolean;
  package: string | null;
  source: 'pypi' | 'conda' | null;
  confidence: 'verified' | 'probably' | null;
  evidence: IProvidesEvidence | null;
  blocked: { rule: string; reason: string; advisory: string } | null;
  install: string | null;
  search: string | null;
  notes: string[];
}

/**
 * What the offer shows while it is asked for, once answered, or when asking failed.
 */
export type OfferState =
  | { state: 'loading'; name: string }
  | { state: 'answered'; answer: IProvidesAnswer }
  | { state: 'failed'; name: string; message: string };

/**
 * The evidence's kind in words.
 */
function evidenceLabel(trans: TranslationBundle, kind: IProvidesEvidence['kind']): string {
  switch (kind) {
    case 'installed':
      return trans.__('installed in your environments');
    case 'import-name':
      return trans.__('declared by the package (Import-Name)');
    case 'record':
      return trans.__("the package's files (RECORD)");
    default:
      return trans.__('the name in the environment\'s channels');
  }
}

/**
 * Text whose file and package names (`python_slugify-8.0.4-py3-none-any.whl`) are
 * not broken at their hyphens when the line wraps.
 */
function Unbroken(props: { text: string }): JSX.Element {
  const words = props.text.split(' ');
  return (
    <>
      {words.map((word, i) => (
        <React.Fragment key={i}>
          {word.includes('-') ? <span className="jp-userpkg-nowrap">{word}</span> : word}
          {i < words.length - 1 ? ' ' : ''}
        </React.Fragment>
      ))}
    </>
  );
}

/**
 * Under a cell's "No module named X": the package that provides X, the evidence
 * and a button that opens the usual plan in the Packages panel (nothing is
 * installed before the user applies it there).  A package the policy refuses
 * is named with the refusal and no button; nothing found offers a search.
 */
export function ImportOffer(props: {
  offer: OfferState;
  trans: TranslationBundle;
  onInstall: (answer: IProvidesAnswer) => void;
  onSearch: (name: string) => void;
}): JSX.Element {
  const { offer, trans } = props;
  if (offer.state === 'loading') {
    return (
      <div className="jp-userpkg-ImportOffer jp-userpkg-ImportOffer-loading" role="status">
        {trans.__('Looking for the package that provides %1…', offer.name)}
      </div>
    );
  }
  if (offer.state === 'failed') {
    return (
      <div className="jp-userpkg-ImportOffer jp-userpkg-ImportOffer-failed" role="status">
        {trans.__('Which package provides %1 could not be found out: %2', offer.name, offer.message)}
      </div>
    );
  }
  const answer = offer.answer;
  if (!answer.found || !answer.package || !answer.evidence) {
    return (
      <div className="jp-userpkg-ImportOffer jp-userpkg-ImportOffer-none" role="status">
        <span className="jp-userpkg-ImportOffer-text">
          {trans.__('No package known to provide %1.', answer.name)}
        </span>
        <Button
          className="jp-userpkg-ImportOffer-search"
          minimal
          small
          onClick={() => props.onSearch(answer.search ?? answer.name)}
        >
          {trans.__('Search for %1', answer.name)}
        </Button>
      </div>
    );
  }
  const evidence = answer.evidence;
  return (
    <div
      className="jp-userpkg-ImportOffer"
      role="status"
      data-package={answer.package}
      data-evidence={evidence.kind}
    >
      <div className="jp-userpkg-ImportOffer-text">
        {trans.__('%1 is provided by', answer.name)}{' '}
        <strong className="jp-userpkg-ImportOffer-package">{answer.package}</strong>
        {answer.confidence === 'probably'
          ? ` (${trans.__('probably: check the plan')})`
          : ''}
      </div>
      <div className="jp-userpkg-ImportOffer-evidence" title={evidence.text}>
        {trans.__('Evidence: %1', evidenceLabel(trans, evidence.kind))}
        {' — '}
        <Unbroken text={evidence.text} />
      </div>
      {answer.blocked ? (
        <div className="jp-userpkg-ImportOffer-refused">
          {trans.__(
            "The administrator's policy refuses %1: %2",
            answer.package,
            answer.blocked.reason || answer.blocked.rule
          )}
        </div>
      ) : (
        <Button
          className="jp-userpkg-ImportOffer-install jp-mod-accept"
          small
          onClick={() => props.onInstall(answer)}
        >
          {trans.__('Install %1 into %2', answer.package, answer.env)}
        </Button>
      )}
    </div>
  );
}
