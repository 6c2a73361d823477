import { join } from 'node:path';
import Redis from 'ioredis';
import { NodeChild, ROOT, startNode } from '../support/node-process';
import { uniqueName, waitFor } from '../support/wait';
import { PrivateServer, RELIABILITY_PORTS, startRedisServer } from './support/private-servers';

/**
 * Start-up and outages, seen from outside: the example worker (apps/worker) and api (apps/api) as
 * child processes, against Redis servers this suite starts and stops on its own ports.
 */
describe('Start-up and broker outages', () => {
  const WORKER = join(ROOT, 'apps', 'worker', 'src', 'main.ts');
  const API = join(ROOT, 'apps', 'api', 'src', 'main.ts');
  const CLI = join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts');
  const queue = uniqueName('startup');
  const children: NodeChild[] = [];
  const servers: PrivateServer[] = [];
  const start = (file: string, env: Record<string, string>) => {
    const c = startNode(file, [], { NO_COLOR: '1', TASKQUEUE_QUEUES: queue, ...env });
    children.push(c);
    return c;
  };
  /** A Redis with a restricted user `app` (and the default user), for the last two tests. */
  let aclServer: PrivateServer;
  beforeAll(async () => {
    aclServer = await startRedisServer(RELIABILITY_PORTS.aclRedis, [
      '--user',
      'app',
      'on',
      '>apppw',
      '~*',
      '&*',
      '+@all',
      '-evalsha',
      '-eval',
      '-brpop',
    ]);
    servers.push(aclServer);
  });
  afterAll(async () => {
    await Promise.all(children.map((c) => c.kill('SIGKILL')));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('the worker waits for a broker that is not up yet (one line per attempt), then runs tasks', async () => {
    const port = RELIABILITY_PORTS.startupRedis;
    const url = `redis://127.0.0.1:${port}/0`;
    const worker = start(WORKER, { TASKQUEUE_BROKER_URL: url });
    await worker.waitForOutput(
      /Cannot connect to redis:\/\/127\.0\.0\.1:\d+\/0: connect ECONNREFUSED[^\n]*Trying again in [\d.]+ s \(2\/100\)/,
      30_000,
    );
    const server = await startRedisServer(port);
    servers.push(server);
    await worker.waitForOutput(/ready\./, 60_000);
    const r = new Redis({ port, host: '127.0.0.1' });
    try {
      const call = startNode(CLI, ['call', 'tasks.add', '--args', '[20,22]', '--queue', queue, '--wait', '20'], {
        TASKQUEUE_BROKER_URL: url,
      });
      expect((await call.exited).code).toBe(0);
      expect(JSON.parse(call.output())).toMatchObject({ state: 'SUCCESS', result: 42 });
    } finally {
      await r.quit();
    }
    expect(worker.output()).not.toMatch(/^\s+at /m);
  });

  it('a user without EVALSHA, EVAL and BRPOP: the worker names the missing commands and refuses to start', async () => {
    const port = aclServer.port;
    const worker = start(WORKER, { TASKQUEUE_BROKER_URL: `redis://app:apppw@127.0.0.1:${port}/0` });
    const { code } = await worker.exited;
    expect(code).toBe(1);
    expect(worker.output()).toMatch(
      /User app at redis:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/0 lacks permissions the task queue needs: BRPOP, EVALSHA, EVAL\./,
    );
    expect(worker.output()).not.toMatch(/^\s+at /m);
  });

  it('apps/api during a broker outage: 503 with Retry-After; a stored result is still read from the backend', async () => {
    const backendPort = aclServer.port; // its default user has every right
    const httpPort = RELIABILITY_PORTS.apiHttp;
    const id = `${uniqueName('stored')}`;
    const r = new Redis({ port: backendPort, host: '127.0.0.1', db: 3 });
    try {
      await r.set(
        `celery-task-meta-${id}`,
        JSON.stringify({
          status: 'SUCCESS',
          result: 7,
          traceback: null,
          children: [],
          date_done: '2026-01-01T00:00:00.000000',
          task_id: id,
        }),
      );
      const api = start(API, {
        PORT: String(httpPort),
        TASKQUEUE_BROKER_URL: `redis://127.0.0.1:${RELIABILITY_PORTS.dead}/0`,
        TASKQUEUE_RESULT_BACKEND: `redis://127.0.0.1:${backendPort}/3`,
      });
      await api.waitForOutput(/api listening/, 60_000);
      const base = `http://127.0.0.1:${httpPort}/tasks`;
      for (let i = 0; i < 2; i++) {
        const res = await fetch(base, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ task: 'tasks.add', args: [1, 2] }),
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('5');
        expect((await res.json()).message).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/0/);
      }
      const got = await waitFor(async () => {
        const res = await fetch(`${base}/${id}`);
        return res.status === 200 ? res.json() : null;
      }, 'the stored result');
      expect(got).toMatchObject({ taskId: id, state: 'SUCCESS', result: 7 });
    } finally {
      await r.del(`celery-task-meta-${id}`);
      await r.quit();
    }
  });
});
