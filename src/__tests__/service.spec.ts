import { ServerConnection } from '@jupyterlab/services';

import { UserPkgError, errorFromResponse, requestAPI } from '../request';

import { UserPkgService } from '../service';

type Call = { url: string; init: RequestInit };

/**
 * Answers `makeRequest` with the given responses, in order, and records
 * the requests.
 */
function mockServer(...responses: Array<Response | Error>): Call[] {
  const calls: Call[] = [];
  jest
    .spyOn(ServerConnection, 'makeRequest')
    .mockImplementation(async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      const next = responses.shift();
      if (next === undefined) {
        throw new Error(`unexpected request ${url}`);
      }
      if (next instanceof Error) {
        throw next;
      }
      return next;
    });
  return calls;
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers }
  });
}

async function failure(promise: Promise<unknown>): Promise<UserPkgError> {
  try {
    await promise;
  } catch (error) {
    return error as UserPkgError;
  }
  throw new Error('no error');
}

const settings = ServerConnection.makeSettings({ baseUrl: 'http://h/base/' });

const job = {
  id: '0'.repeat(32),
  env: 'demo',
  verb: 'change',
  state: 'queued',
  plan: null,
  events: [],
  result: null,
  error: null
};

afterEach(() => jest.restoreAllMocks());

describe('requestAPI', () => {
  it('answers the JSON body', async () => {
    const calls = mockServer(json({ status: 'ok', version: '0.1.0', envs: 0 }));
    const reply = await requestAPI<{ version: string }>('health', {}, settings);
    expect(reply.version).toBe('0.1.0');
    expect(calls[0].url).toBe('http://h/base/userpkg/api/health');
  });

  it('throws the server error with code, message and details', async () => {
    mockServer(
      json(
        {
          reason: 'unsatisfiable',
          code: 'unsatisfiable',
          message: 'the request cannot be satisfied',
          details: 'numpy 3 needs python >=3.14'
        },
        409
      )
    );
    const error = await failure(
      requestAPI('envs/demo/plan', { method: 'POST', body: '{}' }, settings)
    );
    expect(error).toBeInstanceOf(UserPkgError);
    expect(error.code).toBe('unsatisfiable');
    expect(error.message).toBe('the request cannot be satisfied');
    expect(error.details).toBe('numpy 3 needs python >=3.14');
    expect(error.status).toBe(409);
  });

  it("reads the Jupyter server's own errors (no code)", () => {
    const error = errorFromResponse(403, 'Forbidden', '{"message": "Forbidden", "reason": null}');
    expect(error.message).toBe('Forbidden');
    expect(error.code).toBe('http_403');
    expect(error.details).toBeNull();
  });

  it('says when the answer is not JSON at all', () => {
    const error = errorFromResponse(502, 'Bad Gateway', '<html>proxy</html>');
    expect(error.message).toBe('502 Bad Gateway');
    expect(error.code).toBe('http_502');
  });

  it('turns a network failure into an error in words', async () => {
    mockServer(new TypeError('Failed to fetch'));
    const error = await failure(requestAPI('envs', {}, settings));
    expect(error).toBeInstanceOf(UserPkgError);
    expect(error.code).toBe('network_error');
    expect(error.message).toContain('Failed to fetch');
  });
});

describe('UserPkgService', () => {
  it('lists envs and reuses the answer on 304', async () => {
    const envs = [{ name: 'demo', kind: 'venv', path: '/p', kernel: 'userpkg-demo', packages: 1, revision: 0 }];
    const calls = mockServer(
      json(envs, 200, { ETag: '"abc"' }),
      new Response(null, { status: 304 })
    );
    const service = new UserPkgService(settings);
    expect(await service.listEnvs()).toEqual(envs);
    expect(await service.listEnvs()).toEqual(envs);
    const second = calls[1].init.headers as Record<string, string>;
    expect(second['If-None-Match']).toBe('"abc"');
  });

  it('sends the change body to plan and transactions', async () => {
    const plan = { env: 'demo', changes: [], download_bytes: 0 };
    const calls = mockServer(json(plan), json(job, 202));
    const service = new UserPkgService(settings);
    const change = { install: ['tabulate==0.8.10'], pypi: true };
    expect(await service.plan('demo', change)).toEqual(plan);
    expect((await service.applyChange('demo', change)).id).toBe(job.id);
    expect(calls[0].url).toBe('http://h/base/userpkg/api/envs/demo/plan');
    expect(calls[0].init.method).toBe('POST');
    expect(JSON.parse(String(calls[0].init.body))).toEqual(change);
    expect(calls[1].url).toBe('http://h/base/userpkg/api/envs/demo/transactions');
  });

  it('creates an env from an uploaded file', async () => {
    const calls = mockServer(json({ ...job, verb: 'create' }, 202));
    const service = new UserPkgService(settings);
    await service.createEnv({
      name: 'copy',
      file: { name: 'requirements.txt', content: 'tabulate\n' }
    });
    expect(JSON.parse(String(calls[0].init.body))).toEqual({
      name: 'copy',
      file: { name: 'requirements.txt', content: 'tabulate\n' }
    });
  });

  it('plans a create with dry_run: the plan, not a job', async () => {
    const plan = { env: 'copy', changes: [], download_bytes: 0, from_revision: -1 };
    const calls = mockServer(json(plan));
    const service = new UserPkgService(settings);
    const file = { name: 'copy.ipynb', content: '{}' };
    expect(await service.planCreate({ name: 'copy', file })).toEqual(plan);
    expect(calls[0].init.method).toBe('POST');
    expect(calls[0].url).toBe('http://h/base/userpkg/api/envs');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ name: 'copy', file, dry_run: true });
  });

  it('plans a rollback with dry_run and starts one without', async () => {
    const calls = mockServer(json({ env: 'demo', changes: [], download_bytes: 0 }), json(job, 202));
    const service = new UserPkgService(settings);
    await service.rollbackPlan('demo', 2);
    await service.rollback('demo', 2);
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ revision: 2, dry_run: true });
    expect(JSON.parse(String(calls[1].init.body))).toEqual({ revision: 2 });
  });

  it('deletes envs and cancels jobs with DELETE', async () => {
    const calls = mockServer(json(job, 202), json({ ...job, state: 'cancelled' }));
    const service = new UserPkgService(settings);
    await service.deleteEnv('demo');
    expect((await service.cancelJob(job.id)).state).toBe('cancelled');
    expect(calls.map(c => [c.init.method, c.url])).toEqual([
      ['DELETE', 'http://h/base/userpkg/api/envs/demo'],
      ['DELETE', `http://h/base/userpkg/api/jobs/${job.id}`]
    ]);
  });

  it('exports a file with the name the server gives it', async () => {
    mockServer(
      new Response('tabulate==0.8.10\n', {
        status: 200,
        headers: {
          'Content-Type': 'text/plain; charset=UTF-8',
          'Content-Disposition': 'attachment; filename="demo-requirements.txt"'
        }
      })
    );
    const service = new UserPkgService(settings);
    const file = await service.exportEnv('demo', 'requirements');
    expect(file).toEqual({
      filename: 'demo-requirements.txt',
      content: 'tabulate==0.8.10\n',
      contentType: 'text/plain; charset=UTF-8'
    });
  });

  it('encodes search queries and package names', async () => {
    const calls = mockServer(
      json({ query: 'scikit learn', results: [], notes: [], offline: false }),
      json({ name: 'numpy', source: 'conda', versions: [] })
    );
    const service = new UserPkgService(settings);
    await service.search('scikit learn', 'pypi');
    await service.packageInfo('numpy', 'conda');
    expect(calls[0].url).toBe('http://h/base/userpkg/api/search?q=scikit+learn&source=pypi');
    expect(calls[1].url).toBe('http://h/base/userpkg/api/packages/numpy?source=conda');
  });
});
