import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { activityPlace } from '../components/Activity';
import { keepWords } from '../components/controls';
import { countText } from '../components/JobProgress';
import { installLabel } from '../components/PackageInfo';
import { installedText } from '../components/SearchPane';
import { appliedMessage, requestedNames } from '../outcome';
import { groupPackages, packageListView, removable } from '../packagelist';
import { installedIndex, matchClass, rankHits } from '../ranking';
import { readableMessage, remedy } from '../remedies';
import { IPackage, ISearchHit } from '../tokens';

import { makeJob } from './fakes';

const trans = nullTranslator.load('jupyter_userpkg');

function hit(name: string): ISearchHit {
  return { name, source: 'pypi', version: null, summary: null, match: 'substring' };
}

function pkg(name: string, extra: Partial<IPackage> = {}): IPackage {
  return { name, version: '1.0', source: 'pypi', requested: false, ...extra };
}

describe('search ranking', () => {
  it('classes a name: exact, whole segment, prefix, substring', () => {
    expect(matchClass('Slugify', 'slugify')).toBe('exact');
    expect(matchClass('python-slugify', 'slugify')).toBe('segment');
    expect(matchClass('python_slugify', 'slugify')).toBe('segment');
    expect(matchClass('slugify-cli', 'slugify')).toBe('segment');
    expect(matchClass('awesome.slugify.x', 'slugify')).toBe('segment');
    expect(matchClass('slugifyer', 'slugify')).toBe('prefix');
    expect(matchClass('pyslugify', 'slugify')).toBe('substring');
    expect(matchClass('numpy', 'slugify')).toBe('none');
    expect(matchClass('python-slugify', 'python_slugify')).toBe('exact');
  });

  it('puts python-slugify, installed here, first for "slugify"', () => {
    const hits = ['slugifyer', 'pyslugify', 'slugify', 'python-slugify', 'slugify-cli'].map(hit);
    const none = rankHits(hits, 'slugify').map(h => h.name);
    expect(none).toEqual(['slugify', 'python-slugify', 'slugify-cli', 'slugifyer', 'pyslugify']);
    const installed = installedIndex('demo', [pkg('Python_Slugify', { version: '8.0.4' })], new Map());
    const ranked = rankHits(hits, 'slugify', installed).map(h => h.name);
    expect(ranked[0]).toBe('python-slugify');
    expect(ranked.slice(1)).toEqual(['slugify', 'slugify-cli', 'slugifyer', 'pyslugify']);
  });

  it('ranks what another env holds after this env, before the rest, and says where', () => {
    const others = new Map([
      ['analysis', [pkg('slugify-cli', { version: '0.4' }), pkg('numpy', { source: 'base' })]]
    ]);
    const installed = installedIndex('demo', [pkg('pyslugify', { version: '2.0' })], others);
    const ranked = rankHits(['slugify', 'slugify-cli', 'pyslugify'].map(hit), 'slugify', installed);
    expect(ranked.map(h => h.name)).toEqual(['pyslugify', 'slugify-cli', 'slugify']);
    expect(installedText(trans, installed.get('pyslugify'))).toBe('installed 2.0');
    expect(installedText(trans, installed.get('slugify-cli'))).toBe('in analysis (0.4)');
    // Another env's base is not that env's own.
    expect(installed.get('numpy')).toBeUndefined();
  });

  it('keeps the order of the server within a class', () => {
    const hits = ['b-slugify', 'a-slugify'].map(hit);
    expect(rankHits(hits, 'slugify').map(h => h.name)).toEqual(['b-slugify', 'a-slugify']);
  });
});

describe('package list', () => {
  const packages = [
    pkg('zeta', { requested: true }),
    pkg('alpha'),
    pkg('Beta', { requested: true }),
    pkg('numpy', { source: 'base' })
  ];

  it('groups asked-for, dependencies and base, in name order', () => {
    const groups = groupPackages(packages, false);
    expect(groups.requested.map(p => p.name)).toEqual(['Beta', 'zeta']);
    expect(groups.dependencies.map(p => p.name)).toEqual(['alpha']);
    expect(groups.base.map(p => p.name)).toEqual(['numpy']);
  });

  it("counts the own packages of an env over the base as what it adds to the base", () => {
    const groups = groupPackages(packages, true);
    expect(groups.requested.map(p => p.name)).toEqual(['alpha', 'Beta', 'zeta']);
    expect(groups.dependencies).toEqual([]);
  });

  it('shows what was asked for by default, the rest on demand; a filter looks everywhere', () => {
    const view = packageListView(packages, false, { dependencies: false, base: false });
    expect(view.shown).toBe(2);
    expect(view.counts).toEqual({ requested: 2, dependencies: 1, base: 1, total: 4 });
    const all = packageListView(packages, false, { dependencies: true, base: true });
    expect(all.shown).toBe(4);
    const filtered = packageListView(packages, false, { dependencies: false, base: false }, 'NUM');
    expect(filtered.filtered).toBe(true);
    expect(filtered.groups.base.map(p => p.name)).toEqual(['numpy']);
    expect(filtered.shown).toBe(1);
  });

  it('removes only what was asked for', () => {
    expect(removable(pkg('a', { requested: true }))).toBe(true);
    expect(removable(pkg('a'))).toBe(false);
    expect(removable(pkg('a', { source: 'base', requested: true }))).toBe(false);
  });
});

describe('remedies', () => {
  it('gives a next step for each code the panel shows', () => {
    for (const code of [
      'invalid_spec',
      'invalid_env_name',
      'package_not_found',
      'unsatisfiable',
      'policy_denied',
      'env_busy',
      'backend_unavailable',
      'permission_denied',
      'env_damaged',
      'transaction_failed',
      'env_not_found',
      'cancelled'
    ]) {
      expect(remedy(trans, { code, message: 'x' })).toBeTruthy();
    }
    expect(remedy(trans, { code: 'something_else', message: 'x' })).toBeNull();
  });

  it('says what a valid spec looks like', () => {
    expect(remedy(trans, { code: 'invalid_spec', message: 'Expected semicolon' })).toContain('scipy>=1');
  });

  it('tells an unreachable channel from an unreachable index, naming the settings', () => {
    const channel = remedy(trans, {
      code: 'backend_unavailable',
      message: 'cannot fetch https://example.org/chan/linux-64/repodata_shards.msgpack.zst'
    });
    expect(channel).toContain('conda channel');
    expect(channel).toContain('default_channels');
    const index = remedy(trans, { code: 'backend_unavailable', message: 'PyPI cannot be reached' });
    expect(index).toContain('default_index');
  });

  it("cuts a channel's index file from a URL", () => {
    expect(
      readableMessage('cannot fetch https://example.org/chan/linux-64/repodata_shards.msgpack.zst: 503')
    ).toBe('cannot fetch https://example.org/chan/: 503');
  });
});

describe('after Apply', () => {
  it('says what changed, naming what was asked for', () => {
    const job = makeJob('succeeded', {
      env: 'analysis',
      result: {
        applied: true,
        revision: 2,
        plan: {
          env: 'analysis',
          download_bytes: 0,
          changes: [
            { name: 'tabulate', action: 'add', old: null, new: '0.10.0', source: 'pypi' },
            { name: 'wcwidth', action: 'add', old: null, new: '0.2', source: 'pypi' }
          ]
        }
      }
    });
    expect(appliedMessage(trans, { job, request: { install: ['tabulate>=0.9'] } })).toBe(
      'tabulate 0.10.0 installed in analysis (and 1 other package), revision 2'
    );
    expect(appliedMessage(trans, { job, request: null })).toBe('2 packages changed in analysis, revision 2');
  });

  it('names the envs a create or a delete was about', () => {
    expect(appliedMessage(trans, { job: makeJob('succeeded', { verb: 'delete', env: 'x' }), request: null })).toBe(
      'Environment x deleted'
    );
  });

  it('reads names from specs', () => {
    expect([...requestedNames({ install: ['SciPy>=1', 'conda-forge::numpy', 'a[b]==1'] })]).toEqual([
      'scipy',
      'numpy',
      'a'
    ]);
  });

  it('offers no install of what is installed', () => {
    expect(installLabel(trans, null, '', '1.0')).toEqual({ label: 'Install', noop: false });
    expect(installLabel(trans, '1.0', '', '1.0')).toEqual({ label: 'Installed 1.0', noop: true });
    expect(installLabel(trans, '1.0', '', '1.1')).toEqual({ label: 'Update to 1.1', noop: false });
    expect(installLabel(trans, '1.1', '1.0', '1.1')).toEqual({ label: 'Change to 1.0', noop: false });
  });
});

describe('where an action shows what it brought', () => {
  it('under the row, the details or the revision it was taken on; else at the top', () => {
    expect(activityPlace('package:tabulate', 'packages', null)).toEqual({ tab: 'packages', name: 'tabulate' });
    expect(activityPlace('update-all', 'packages', null)).toEqual({ tab: 'packages', name: null });
    expect(activityPlace('info:tabulate', 'search', 'tabulate')).toEqual({ tab: 'search', name: 'tabulate' });
    expect(activityPlace('info:tabulate', 'search', 'numpy')).toBe('top');
    expect(activityPlace('revision:2', 'history', null)).toEqual({ tab: 'history', revision: 2 });
    // The tab of the place is not shown, or no place: the top of the panel.
    expect(activityPlace('package:tabulate', 'history', null)).toBe('top');
    expect(activityPlace(null, 'packages', null)).toBe('top');
  });
});

describe('package names in messages', () => {
  it('keeps hyphenated names on one line, not long ones', () => {
    const kept = keepWords('blocked_versions: userpkg-policy-demo ==2.0') as React.ReactNode[];
    expect(Array.isArray(kept)).toBe(true);
    const spans = kept.filter(React.isValidElement) as React.ReactElement[];
    expect(spans.map(s => (s.props as { children: string }).children)).toEqual(['userpkg-policy-demo']);
    expect(keepWords('no names here')).toBe('no names here');
    const long = 'a-very-long-name-that-goes-on-and-on-and-on';
    expect(keepWords(long)).toBe(long);
  });
});

describe('progress in words', () => {
  it('says bytes and percent of a download, n of m otherwise', () => {
    expect(countText(trans, 'download', 1_200_000, 4_800_000)).toBe('1.2 MB of 4.8 MB (25%)');
    expect(countText(trans, 'install', 3, 12)).toBe('3 of 12 (25%)');
  });
});
