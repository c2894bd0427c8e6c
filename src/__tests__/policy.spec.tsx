import { nullTranslator } from '@jupyterlab/translation';

import * as React from 'react';

import { act } from 'react';

import { createRoot, Root } from 'react-dom/client';

import { ServerConnection } from '@jupyterlab/services';

import { Advisories, AdvisoryMark } from '../components/Advisories';
import { envOptions } from '../components/EnvHeader';
import { ErrorView } from '../components/ErrorView';
import { PackageInfo } from '../components/PackageInfo';
import { PackageList } from '../components/PackageList';
import { PolicyView } from '../components/PolicyView';
import { SearchPane } from '../components/SearchPane';

import { UserPkgModel } from '../model';

import {
  allowedVersions,
  fixOf,
  policyRules,
  ruleValues,
  verdictText
} from '../policy';

import { UserPkgError } from '../request';

import { UserPkgService } from '../service';

import {
  IAdvisory,
  IPackageInfo,
  IPolicyAnswer,
  ISearchResult,
  POLICY_DENIED
} from '../tokens';

import { ENVS, FakeService, PLAN, makeJob } from './fakes';

const trans = nullTranslator.load('jupyter_userpkg');

(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

const ADVISORY: IAdvisory = {
  package: 'requests',
  version: '2.30.0',
  source: 'pypi',
  rule: 'blocked_versions: requests <2.31',
  reason: 'leaks credentials on redirects',
  advisory: 'PYSEC-2023-74',
  fix: 'update requests -n demo',
  change: { verb: 'update', env: 'demo', packages: ['requests'] }
};

const REMOVE: IAdvisory = {
  ...ADVISORY,
  package: 'evil',
  version: '1.0',
  rule: 'blocked_packages: evil',
  reason: 'malware',
  advisory: '',
  fix: 'remove evil -n demo',
  change: { verb: 'remove', env: 'demo', packages: ['evil'] }
};

const ANSWER: IPolicyAnswer = {
  policy: {
    indexes: [],
    pypi: true,
    blocked_packages: [{ name: 'evil', reason: 'malware' }],
    blocked_versions: [
      { name: 'requests', versions: '<2.31', reason: 'leaks credentials', advisory: 'PYSEC-2023-74' }
    ],
    max_envs: 5,
    snapshot: ''
  },
  origins: {
    blocked_versions: 'https://admin.example/policy.json',
    blocked_packages: '/etc/jupyter/jupyter_userpkg_policy.json',
    max_envs: '/etc/jupyter/jupyter_userpkg_policy.json'
  },
  sources: ['/etc/jupyter/jupyter_userpkg_policy.json'],
  notes: ['the policy URL could not be fetched; the copy of 2026-11-30 is used']
};

const INFO: IPackageInfo = {
  name: 'requests',
  source: 'pypi',
  summary: 'HTTP for Humans.',
  versions: ['2.32.3', '2.31.0', '2.30.0', '2.29.0'],
  latest: '2.32.3',
  license: 'Apache-2.0',
  home_page: null,
  requires_python: null,
  notes: [],
  offline: false,
  blocked: null,
  blocked_versions: {
    '2.30.0': { rule: 'blocked_versions: requests <2.31', reason: 'leaks credentials', advisory: 'PYSEC-2023-74' },
    '2.29.0': { rule: 'blocked_versions: requests <2.31', reason: 'leaks credentials', advisory: 'PYSEC-2023-74' }
  }
};

describe('policy helpers', () => {
  it('takes a structured fix as it is, and never reads a command back', () => {
    const advisory = {
      package: 'requests',
      version: '2.30.0',
      source: 'pypi',
      rule: 'blocked_versions: requests <2.31',
      reason: 'leaks credentials',
      advisory: '',
      fix: 'update requests -n analysis'
    };
    const change = { verb: 'remove' as const, env: 'sci', packages: ['requests'] };
    expect(fixOf({ ...advisory, change })).toEqual({
      verb: 'remove',
      names: ['requests'],
      env: 'sci',
      request: { remove: ['requests'] }
    });
    // A fix without a change request is shown for the user to run, not parsed.
    expect(fixOf({ ...advisory, change: null })).toBeNull();
    expect(fixOf({ ...advisory, fix: 'delete analysis', change: null })).toBeNull();
  });

  it('says why in one line', () => {
    expect(verdictText(trans, ADVISORY)).toBe(
      "blocked by the administrator's policy (blocked_versions: requests <2.31): leaks credentials on redirects (advisory PYSEC-2023-74)"
    );
    expect(verdictText(trans, { rule: 'pypi: false', reason: '', advisory: '' })).toBe(
      "blocked by the administrator's policy (pypi: false)"
    );
  });

  it('offers only the versions the policy allows', () => {
    expect(allowedVersions(INFO)).toEqual(['2.32.3', '2.31.0']);
    expect(allowedVersions({ ...INFO, blocked: { rule: 'r', reason: '', advisory: '' } })).toEqual([]);
    expect(allowedVersions({ ...INFO, blocked_versions: undefined })).toEqual(INFO.versions);
  });

  it('lists the rules that are set, with their origins, in words', () => {
    const rules = policyRules(ANSWER);
    expect(rules.map(r => r.name)).toEqual(['blocked_packages', 'blocked_versions', 'max_envs']);
    expect(rules[1]).toEqual({
      name: 'blocked_versions',
      values: ['requests <2.31: leaks credentials (PYSEC-2023-74)'],
      origin: 'https://admin.example/policy.json'
    });
    expect(rules[2].values).toEqual(['5']);
    expect(ruleValues(['https://a/simple', 'https://b/simple'])).toEqual([
      'https://a/simple',
      'https://b/simple'
    ]);
    expect(ruleValues([{ name: 'gpl-*', source: 'conda' }])).toEqual(['gpl-* [conda]']);
    expect(ruleValues(false)).toEqual(['false']);
    expect(ruleValues('')).toEqual([]);
    expect(policyRules({ ...ANSWER, origins: {} })).toEqual([]);
  });
});

describe('policy components', () => {
  let host: HTMLElement;
  let root: Root;

  beforeEach(() => {
    host = document.createElement('div');
    document.body.appendChild(host);
    root = createRoot(host);
  });

  afterEach(() => {
    act(() => root.unmount());
    host.remove();
  });

  const $ = (selector: string) => host.querySelector(selector) as HTMLElement | null;

  it('shows each advisory with the button that plans its fix', () => {
    const onFix = jest.fn();
    const odd = { ...ADVISORY, package: 'old', fix: 'delete demo', change: null };
    act(() =>
      root.render(
        <Advisories trans={trans} env="demo" advisories={[ADVISORY, REMOVE, odd]} busy={false} onFix={onFix} />
      )
    );
    const item = $('.jp-userpkg-advisory[data-package="requests"]');
    expect(item?.getAttribute('data-version')).toBe('2.30.0');
    expect(item?.textContent).toContain('requests 2.30.0');
    expect(item?.querySelector('.jp-userpkg-advisory-reason')?.textContent).toBe('leaks credentials on redirects');
    expect(item?.querySelector('.jp-userpkg-advisory-id')?.textContent).toBe('advisory PYSEC-2023-74');
    expect(item?.querySelector('.jp-userpkg-advisory-rule')?.textContent).toBe('Rule: blocked_versions: requests <2.31');
    const update = item?.querySelector('button.jp-userpkg-advisory-fix') as HTMLButtonElement;
    expect(update.textContent).toBe('Update requests');
    act(() => update.click());
    expect(onFix).toHaveBeenCalledWith(ADVISORY);
    const remove = $('.jp-userpkg-advisory[data-package="evil"] button.jp-userpkg-advisory-fix');
    expect(remove?.textContent).toBe('Remove evil');
    // A fix that is no change of packages: the command, to run.
    const other = $('.jp-userpkg-advisory[data-package="old"]');
    expect(other?.querySelector('button')).toBeNull();
    expect(other?.querySelector('.jp-userpkg-advisory-command code')?.textContent).toBe('delete demo');
    expect($('.jp-userpkg-advisories h3')?.textContent).toContain('demo holds 3 packages');
  });

  it('disables the fix buttons while a job runs, and shows nothing without advisories', () => {
    act(() => root.render(<Advisories trans={trans} env="demo" advisories={[ADVISORY]} busy={true} onFix={jest.fn()} />));
    expect(($('button.jp-userpkg-advisory-fix') as HTMLButtonElement).disabled).toBe(true);
    act(() => root.render(<Advisories trans={trans} env="demo" advisories={[]} busy={false} onFix={jest.fn()} />));
    expect(host.innerHTML).toBe('');
  });

  it('marks an env with advisories: a count, a tooltip listing them', () => {
    act(() => root.render(<AdvisoryMark trans={trans} advisories={[ADVISORY, REMOVE]} />));
    const mark = $('.jp-userpkg-advisory-mark');
    expect(mark?.getAttribute('data-count')).toBe('2');
    expect(mark?.textContent).toBe('2');
    expect(mark?.getAttribute('title')?.split('\n')).toEqual([
      "requests 2.30.0: blocked by the administrator's policy (blocked_versions: requests <2.31): leaks credentials on redirects (advisory PYSEC-2023-74)",
      "evil 1.0: blocked by the administrator's policy (blocked_packages: evil): malware"
    ]);
    const options = envOptions(trans, ['default', 'demo'], { demo: [ADVISORY] });
    expect(options[0]).toEqual({ value: 'default', label: 'default' });
    expect(options[1]).toMatchObject({ value: 'demo', label: 'demo ⚠ 1', 'data-advisories': '1' });
    expect((options[1] as unknown as { title: string }).title).toContain('PYSEC-2023-74');
  });

  it('marks the installed packages an advisory is about', () => {
    act(() =>
      root.render(
        <PackageList
          trans={trans}
          extendsBase
          packages={[
            { name: 'Requests', version: '2.30.0', source: 'pypi', requested: true },
            { name: 'six', version: '1.16.0', source: 'pypi', requested: false }
          ]}
          advisories={[ADVISORY]}
          busy={false}
          onRemove={jest.fn()}
          onUpdate={jest.fn()}
          onUpdateAll={jest.fn()}
        />
      )
    );
    const row = $('li[data-package="Requests"]');
    expect(row?.getAttribute('data-blocked')).toBe('true');
    expect(row?.querySelector('.jp-userpkg-package-blocked')?.getAttribute('title')).toContain('leaks credentials');
    expect($('li[data-package="six"]')?.hasAttribute('data-blocked')).toBe(false);
  });

  it('marks a blocked search hit with the reason in its tooltip', () => {
    const result: ISearchResult = {
      query: 'ev',
      results: [
        { name: 'evil', source: 'pypi', version: '1.0', summary: null, match: 'prefix', blocked: { rule: 'blocked_packages: evil', reason: 'malware', advisory: '' } },
        { name: 'eval', source: 'pypi', version: '2.0', summary: null, match: 'prefix', blocked: null }
      ],
      notes: [],
      offline: false
    };
    act(() =>
      root.render(
        <SearchPane
          trans={trans}
          query="ev"
          source="pypi"
          showSource={false}
          result={result}
          searching={false}
          selected={null}
          onQuery={jest.fn()}
          onSource={jest.fn()}
          onPick={jest.fn()}
        />
      )
    );
    const blocked = $('.jp-userpkg-search-result[data-package="evil"]');
    expect(blocked?.getAttribute('data-blocked')).toBe('true');
    const badge = blocked?.querySelector('.jp-userpkg-blocked-badge');
    expect(badge?.textContent).toBe('blocked');
    expect(badge?.getAttribute('title')).toBe("blocked by the administrator's policy (blocked_packages: evil): malware");
    expect(blocked?.querySelector('.jp-userpkg-search-blocked')?.textContent).toContain('malware');
    expect($('.jp-userpkg-search-result[data-package="eval"] .jp-userpkg-blocked-badge')).toBeNull();
  });

  it("marks a package's blocked versions and does not offer them", () => {
    const onInstall = jest.fn();
    act(() =>
      root.render(
        <PackageInfo trans={trans} info={INFO} installed="2.30.0" busy={false} onInstall={onInstall} onClose={jest.fn()} />
      )
    );
    const options = Array.from(host.querySelectorAll('select.jp-userpkg-version-select option')).map(o =>
      o.getAttribute('value')
    );
    expect(options).toEqual(['', '2.32.3', '2.31.0']);
    const group = $('.jp-userpkg-blocked-version');
    expect(group?.getAttribute('data-versions')).toBe('2.30.0 2.29.0');
    expect(group?.textContent).toBe('2.30.0, 2.29.0: leaks credentials (PYSEC-2023-74)');
    expect($('.jp-userpkg-info-installed .jp-userpkg-blocked-badge')).not.toBeNull();
    const install = $('button.jp-userpkg-install-button') as HTMLButtonElement;
    expect(install.disabled).toBe(false);
    act(() => install.click());
    expect(onInstall).toHaveBeenCalledWith('requests');
  });

  it('disables the install of a blocked package, saying why', () => {
    const info = { ...INFO, blocked: { rule: 'blocked_packages: requests', reason: 'use httpx', advisory: '' }, blocked_versions: {} };
    act(() =>
      root.render(<PackageInfo trans={trans} info={info} installed={null} busy={false} onInstall={jest.fn()} onClose={jest.fn()} />)
    );
    expect($('.jp-userpkg-package-info')?.getAttribute('data-blocked')).toBe('true');
    expect($('.jp-userpkg-blocked-notice')?.textContent).toBe(
      "requests is blocked by the administrator's policy (blocked_packages: requests): use httpx."
    );
    const install = $('button.jp-userpkg-install-button') as HTMLButtonElement;
    expect(install.disabled).toBe(true);
    expect(install.getAttribute('title')).toContain('use httpx');
    expect(($('select.jp-userpkg-version-select') as HTMLSelectElement).disabled).toBe(true);
  });

  it('lists the rules that are set and where each came from', () => {
    act(() => root.render(<PolicyView trans={trans} answer={ANSWER} />));
    const rows = Array.from(host.querySelectorAll('tr.jp-userpkg-policy-rule'));
    expect(rows.map(r => r.getAttribute('data-rule'))).toEqual(['blocked_packages', 'blocked_versions', 'max_envs']);
    const versions = $('tr[data-rule="blocked_versions"]');
    expect(versions?.querySelector('.jp-userpkg-policy-value')?.textContent).toBe(
      'requests <2.31: leaks credentials (PYSEC-2023-74)'
    );
    expect(versions?.querySelector('.jp-userpkg-policy-origin')?.textContent).toBe('https://admin.example/policy.json');
    expect($('.jp-userpkg-policy-notes')?.textContent).toContain('could not be fetched');
    expect($('.jp-userpkg-policy-sources')?.textContent).toContain('/etc/jupyter/jupyter_userpkg_policy.json');
    expect($('.jp-userpkg-policy-none')).toBeNull();
  });

  it('says when no policy is set', () => {
    act(() => root.render(<PolicyView trans={trans} answer={{ ...ANSWER, origins: {}, notes: [], error: null }} />));
    expect($('.jp-userpkg-policy-none')?.textContent).toContain('No policy is set');
    expect($('.jp-userpkg-policy-rules')).toBeNull();
    expect($('.jp-userpkg-policy-error')).toBeNull();
  });

  it('says when the policy cannot be read, and not that none is set', () => {
    const error = "policy /etc/jupyter/jupyter_userpkg_policy.json: 'max_envs' must be a int";
    act(() => root.render(<PolicyView trans={trans} answer={{ ...ANSWER, origins: {}, notes: [error], error }} />));
    expect($('.jp-userpkg-policy-error')?.textContent).toBe(
      `The policy cannot be read: ${error}. Until it is fixed, every package is refused.`
    );
    expect($('.jp-userpkg-policy-none')).toBeNull();
    expect($('.jp-userpkg-policy-notes')).toBeNull();
  });

  it('shows a refusal of the policy as such, with its rule and the way to the policy', () => {
    const onShowPolicy = jest.fn();
    act(() =>
      root.render(
        <ErrorView
          trans={trans}
          error={{
            code: POLICY_DENIED,
            message:
              "polsec 2.0 is blocked by the administrator's policy (blocked_versions: polsec ==2.0): remote code execution (advisory PYSEC-1); the nearest allowed version is 1.0",
            details: 'blocked_versions: polsec ==2.0'
          }}
          onDismiss={jest.fn()}
          onShowPolicy={onShowPolicy}
        />
      )
    );
    const error = $('.jp-userpkg-error');
    expect(error?.getAttribute('data-code')).toBe('policy_denied');
    expect(error?.classList.contains('jp-mod-policy')).toBe(true);
    expect($('.jp-userpkg-error-title')?.textContent).toBe("Refused by the administrator's policy");
    expect($('.jp-userpkg-error-message')?.textContent).toContain('the nearest allowed version is 1.0');
    expect($('.jp-userpkg-error-rule')?.textContent).toBe('Rule: blocked_versions: polsec ==2.0');
    expect($('details.jp-userpkg-error-details')).toBeNull();
    act(() => ($('button.jp-userpkg-error-show-policy') as HTMLButtonElement).click());
    expect(onShowPolicy).toHaveBeenCalled();
  });
});

describe('the model and the policy', () => {
  function setup() {
    const fake = new FakeService();
    fake.envs = ENVS.map(env =>
      env.name === 'demo' ? { ...env, advisories: [ADVISORY] } : { ...env, advisories: [] }
    );
    const model = new UserPkgModel(fake.asService(), {
      probe: { modules: jest.fn(async () => []) },
      jobs: { pollInterval: 20, quietPeriod: 60 },
      searchDelay: 10
    });
    return { fake, model };
  }

  it('knows the advisories of each env and of the selected one', async () => {
    const { model } = setup();
    await model.refresh();
    expect(model.advisoriesByEnv).toEqual({ demo: [ADVISORY] });
    expect(model.advisories).toEqual([]);
    await model.select('demo');
    expect(model.advisories).toEqual([ADVISORY]);
  });

  it("plans an advisory's fix in its env, to be applied as any change", async () => {
    const { fake, model } = setup();
    await model.refresh();
    expect(model.selected).toBe('default');
    await model.planFix(ADVISORY);
    expect(model.selected).toBe('demo');
    expect(fake.plan).toHaveBeenCalledWith('demo', { update: ['requests'] });
    expect(model.pending).toEqual({ kind: 'change', env: 'demo', request: { update: ['requests'] }, plan: PLAN });
    fake.envs = fake.envs.map(env => ({ ...env, advisories: [] }));
    fake.getJob.mockResolvedValue(makeJob('succeeded', { result: { plan: PLAN, revision: 2, applied: true } }));
    await model.applyPending();
    expect(fake.applyChange).toHaveBeenCalledWith('demo', { update: ['requests'] });
    expect(model.advisories).toEqual([]);
    await model.planFix(REMOVE);
    expect(fake.plan).toHaveBeenLastCalledWith('demo', { remove: ['evil'] });
    fake.plan.mockClear();
    await model.planFix({ ...ADVISORY, fix: 'delete demo', change: null });
    expect(fake.plan).not.toHaveBeenCalled();
  });

  it('shows a refused plan as the refusal, and a job refused the same', async () => {
    const { fake, model } = setup();
    await model.select('demo');
    const message =
      "polsec 2.0 is blocked by the administrator's policy (blocked_versions: polsec ==2.0): remote code execution (advisory PYSEC-1); the nearest allowed version is 1.0";
    fake.plan.mockRejectedValueOnce(
      new UserPkgError(message, { code: POLICY_DENIED, details: 'blocked_versions: polsec ==2.0', status: 403 })
    );
    await model.planChange({ install: ['polsec==2.0'] });
    expect(model.pending).toBeNull();
    expect(model.error).toEqual({ code: POLICY_DENIED, message, details: 'blocked_versions: polsec ==2.0' });
    model.dismissError();
    fake.getJob.mockResolvedValue(makeJob('failed', { error: { code: POLICY_DENIED, message } }));
    fake.createEnv.mockResolvedValueOnce(makeJob('queued', { verb: 'create', env: 'new' }));
    await model.createEnv({ name: 'new', kind: 'venv', specs: ['polsec==2.0'] });
    expect(model.error).toEqual({ code: POLICY_DENIED, message });
  });

  it('reads the policy, and says when it cannot', async () => {
    const { fake, model } = setup();
    fake.policy.mockResolvedValueOnce(ANSWER);
    expect(await model.loadPolicy()).toBe(ANSWER);
    expect(model.policy).toBe(ANSWER);
    expect(fake.policy).toHaveBeenCalledWith(false);
    expect(model.policyLoading).toBe(false);
    fake.policy.mockRejectedValueOnce(
      new UserPkgError('policy https://admin/p.json: must be a JSON object', { code: 'invalid_policy' })
    );
    expect(await model.loadPolicy()).toBeNull();
    expect(model.error?.code).toBe('invalid_policy');
  });
});

describe('the policy endpoint', () => {
  afterEach(() => jest.restoreAllMocks());

  it('asks GET policy, with check=true when asked', async () => {
    const urls: string[] = [];
    jest.spyOn(ServerConnection, 'makeRequest').mockImplementation(async (url: string) => {
      urls.push(url);
      return new Response(JSON.stringify({ ...ANSWER, violations: [{ env: 'demo', violations: [ADVISORY] }] }), {
        status: 200
      });
    });
    const service = new UserPkgService(ServerConnection.makeSettings({ baseUrl: 'http://h/base/' }));
    expect((await service.policy()).origins).toEqual(ANSWER.origins);
    const checked = await service.policy(true);
    expect(checked.violations?.[0].violations[0].fix).toBe('update requests -n demo');
    expect(urls).toEqual(['http://h/base/userpkg/api/policy', 'http://h/base/userpkg/api/policy?check=true']);
  });

  it('turns a 403 policy_denied into its message', async () => {
    const message = "polsec 2.0 is blocked by the administrator's policy (blocked_versions: polsec ==2.0): remote code execution (advisory PYSEC-1); the nearest allowed version is 1.0";
    jest.spyOn(ServerConnection, 'makeRequest').mockResolvedValue(
      new Response(
        JSON.stringify({ reason: 'policy_denied', code: 'policy_denied', message, details: 'blocked_versions: polsec ==2.0' }),
        { status: 403 }
      )
    );
    const service = new UserPkgService(ServerConnection.makeSettings({ baseUrl: 'http://h/base/' }));
    let error: UserPkgError | null = null;
    try {
      await service.plan('demo', { install: ['polsec==2.0'] });
    } catch (reason) {
      error = reason as UserPkgError;
    }
    expect(error).toBeInstanceOf(UserPkgError);
    expect(error?.code).toBe(POLICY_DENIED);
    expect(error?.status).toBe(403);
    expect(error?.message).toBe(message);
  });
});
