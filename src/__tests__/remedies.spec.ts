import { nullTranslator } from '@jupyterlab/translation';

import { remedy } from '../remedies';

const trans = nullTranslator.load('jupyter_userpkg');

describe('the remedy of a package the mirror lacks', () => {
  it('says the mirror holds what was reviewed and points at asking for it', () => {
    const text = remedy(trans, {
      code: 'not_in_mirror',
      message: "mirrnone is not in the administrator's package mirror (...); ask at help.example.org"
    });
    expect(text).toContain("administrator's mirror");
    expect(text).toContain('ask for this one');
    expect(text).not.toEqual(remedy(trans, { code: 'package_not_found', message: 'x' }));
  });
});
