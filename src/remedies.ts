import { TranslationBundle } from '@jupyterlab/translation';

import { IError } from './tokens';

/**
 * What the user can do about an error, in one line; null when its message
 * says all there is (or nothing can be done from the panel).
 *
 * Keyed by the error's machine code (the server's `code`); a cause found in
 * the message (an unreachable channel or index) refines it.
 */
export function remedy(trans: TranslationBundle, error: IError): string | null {
  switch (error.code) {
    case 'invalid_spec':
      return trans.__(
        'Write a package name, optionally with a version: scipy, scipy>=1.11 or scipy==1.11.4.'
      );
    case 'invalid_env_name':
      return trans.__(
        'Use letters, digits, ".", "_" and "-", starting with a letter or digit (for example analysis-2).'
      );
    case 'package_not_found':
      return trans.__(
        'Check the spelling in Search, which suggests close names; a conda package may be on PyPI under another name.'
      );
    case 'not_in_mirror':
      return trans.__(
        "The administrator's mirror holds only the packages reviewed for this hub: ask for this one as the message says; Search shows what the mirror holds."
      );
    case 'unsatisfiable':
      return trans.__(
        'Loosen a version pin (scipy instead of scipy==1.11.4), or update the packages that hold it back; "Why" has the solver\'s explanation.'
      );
    case 'policy_denied':
      return trans.__(
        'Pick an allowed version (the message names the nearest one), or ask your administrator about the rule.'
      );
    case 'env_busy':
      return trans.__(
        'Another change of this environment is running (in a notebook, a terminal or here): try again when it has finished.'
      );
    case 'backend_unavailable':
      return unreachable(trans, error);
    case 'permission_denied':
      return trans.__(
        'The environment is not yours to change (a shared one): make a layer of your own over it.'
      );
    case 'env_damaged':
      return trans.__(
        'Run "jupyter userpkg doctor -n ENV" in a terminal: it recovers an interrupted change.'
      );
    case 'transaction_failed':
      return trans.__(
        'Nothing was changed: the environment is as it was. "Why" says what failed.'
      );
    case 'env_not_found':
      return trans.__('Refresh the list: the environment may have been deleted elsewhere.');
    case 'cancelled':
      return trans.__('Nothing was changed: the environment is as it was.');
    default:
      return null;
  }
}

/**
 * An index or channel that could not be reached: the network, a mirror,
 * the administrator's settings.
 */
function unreachable(trans: TranslationBundle, error: IError): string {
  const text = `${error.message} ${error.details ?? ''}`.toLowerCase();
  if (text.includes('channel') || text.includes('repodata') || text.includes('conda')) {
    return trans.__(
      'A conda channel cannot be reached: check the network, or ask your administrator for a mirror (the channel_alias and default_channels settings of the policy).'
    );
  }
  return trans.__(
    'The package index cannot be reached: check the network, or ask your administrator for a mirror (the default_index and extra_index_urls settings of the policy).'
  );
}

/**
 * An error's message for a user: a raw URL of a channel's index file is
 * cut down to the channel it belongs to.
 */
export function readableMessage(message: string): string {
  return message.replace(
    /(https?:\/\/[^\s'"]+?\/)(?:[a-z0-9_-]+\/)?(?:repodata[^\s'":]*|[^\s'"/:]+\.msgpack\.zst)/gi,
    '$1'
  );
}
