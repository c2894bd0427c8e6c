import { TranslationBundle } from '@jupyterlab/translation';

import * as React from 'react';

import { policyRules } from '../policy';

import { IPolicyAnswer } from '../tokens';

/**
 * Properties of the policy view.
 */
export interface IPolicyViewProps {
  trans: TranslationBundle;
  answer: IPolicyAnswer;
}

/**
 * The administrator's policy: why it cannot be read, if so; each rule that is
 * set, with its value and the file or URL it came from; the notes; where
 * policies are looked for.
 */
export function PolicyView(props: IPolicyViewProps): JSX.Element {
  const { trans, answer } = props;
  const rules = policyRules(answer);
  // The reason a policy cannot be read is among the notes too: said once.
  const notes = answer.notes.filter(note => note !== answer.error);
  return (
    <div className="jp-userpkg-policy">
      {answer.error && (
        <p className="jp-userpkg-policy-error" role="alert">
          {trans.__(
            'The policy cannot be read: %1. Until it is fixed, every package is refused.',
            answer.error
          )}
        </p>
      )}
      {rules.length === 0 && answer.error ? null : rules.length === 0 ? (
        <p className="jp-userpkg-policy-none">
          {trans.__(
            'No policy is set: every package and version of the configured indexes and channels may be installed.'
          )}
        </p>
      ) : (
        <table className="jp-userpkg-policy-rules">
          <thead>
            <tr>
              <th scope="col">{trans.__('Rule')}</th>
              <th scope="col">{trans.__('Value')}</th>
              <th scope="col">{trans.__('From')}</th>
            </tr>
          </thead>
          <tbody>
            {rules.map(rule => (
              <tr
                key={rule.name}
                className="jp-userpkg-policy-rule"
                data-rule={rule.name}
              >
                <th scope="row" className="jp-userpkg-policy-name">
                  <code>{rule.name}</code>
                </th>
                <td className="jp-userpkg-policy-value">
                  {rule.values.length === 0
                    ? trans.__('(empty)')
                    : rule.values.map((value, i) => <div key={i}>{value}</div>)}
                </td>
                <td className="jp-userpkg-policy-origin">{rule.origin}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {notes.length > 0 && (
        <ul className="jp-userpkg-notes jp-userpkg-policy-notes">
          {notes.map(note => (
            <li key={note} className="jp-userpkg-note">
              {note}
            </li>
          ))}
        </ul>
      )}
      {answer.sources.length > 0 && (
        <details className="jp-userpkg-policy-sources">
          <summary>{trans.__('Where policies are looked for')}</summary>
          <ul>
            {answer.sources.map(source => (
              <li key={source}>
                <code>{source}</code>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
