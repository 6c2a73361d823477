import { join } from 'node:path';
import { CanActivate, ExecutionContext, INestApplication, Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { Browser } from 'playwright-core';
import {
  RunningDashboard,
  TaskClient,
  TaskQueueDashboardModule,
  TaskQueueModule,
  startStandaloneDashboard,
} from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { NodeChild, ROOT, startNode } from '../support/node-process';
import { deletePrefix, inspector, queueKeys, removeBindingsMentioning } from '../support/redis-test.helpers';
import { redisUrlFor, suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { launchChromium } from './support/browser';

@Injectable()
class AdminHeaderGuard implements CanActivate {
  canActivate(ctx: ExecutionContext): boolean {
    return ctx.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-admin'] === 'yes';
  }
}

/**
 * What the dashboard refuses: no or wrong Basic credentials, actions without the session's CSRF
 * token or from another origin, any action when read-only (`taskq dashboard --read-only`), and
 * what the app's own guard refuses when mounted in an app (apps/api mounts it at /dashboard).
 */
describe('Dashboard: basic auth, CSRF, read-only, mounted in an app (Redis)', () => {
  const DB = suiteDb('dashboardAuth');
  const URL = redisUrlFor(DB);
  const run = uniqueName('dash-auth');
  const queue = `${run}-q`;
  const host = `node-${run}@test`;
  const historyPrefix = `${run}:monitor:`;
  const AUTH = `Basic ${Buffer.from('admin:s3cret').toString('base64')}`;
  let r: Redis;
  let worker: RunningWorker;
  let dash: RunningDashboard;
  let browser: Browser;

  beforeAll(async () => {
    r = inspector(DB);
    worker = await startWorker(
      { brokerUrl: URL, resultBackend: URL, worker: { queues: [queue], hostname: host, sendTaskEvents: true } },
      { imports: [TasksModule] },
    );
    dash = await startStandaloneDashboard({
      taskQueue: { brokerUrl: URL, resultBackend: URL },
      port: 0,
      basicAuth: ['admin:s3cret'],
      monitor: { historyPrefix, queues: [queue], inspectIntervalSeconds: 1, queueIntervalSeconds: 1 },
    });
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await worker?.close();
    await deletePrefix(r, historyPrefix);
    await r.del(...queueKeys(queue));
    await removeBindingsMentioning(r, [queue, host]);
    r.disconnect();
  });

  /** A session as the page starts one: its cookie and token. */
  async function session(
    base: string,
    headers: Record<string, string> = {},
  ): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${base}api/session`, { headers });
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
    const body = (await res.json()) as { csrf: string };
    return { cookie, csrf: body.csrf };
  }

  it('refuses pages, the API and /metrics without the right Basic credentials', async () => {
    for (const path of ['', 'api/tasks', 'metrics', 'api/stream']) {
      const none = await fetch(`${dash.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Basic /);
      const wrong = await fetch(`${dash.url}${path}`, {
        headers: { authorization: `Basic ${Buffer.from('admin:nope').toString('base64')}` },
      });
      expect(wrong.status).toBe(401);
    }
    const ok = await fetch(`${dash.url}api/tasks`, { headers: { authorization: AUTH } });
    expect(ok.status).toBe(200);
  });

  it('refuses an action without the CSRF token, with a wrong one, or from another origin', async () => {
    const s = await session(dash.url, { authorization: AUTH });
    expect(s.cookie).toMatch(/^taskq_csrf=/);
    const post = (headers: Record<string, string>) =>
      fetch(`${dash.url}api/actions/purge`, {
        method: 'POST',
        headers: { authorization: AUTH, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ queue }),
      });
    expect((await post({ cookie: s.cookie })).status).toBe(403);
    expect((await post({ cookie: s.cookie, 'x-csrf-token': 'forged' })).status).toBe(403);
    expect((await post({ 'x-csrf-token': s.csrf })).status).toBe(403); // header without the cookie
    expect((await post({ cookie: s.cookie, 'x-csrf-token': s.csrf, origin: 'https://evil.example' })).status).toBe(403);
    const ok = await post({ cookie: s.cookie, 'x-csrf-token': s.csrf, origin: dash.url.replace(/\/$/, '') });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, message: `Purged 0 messages from ${queue}.` });
  });

  it('with the credentials, the page acts: purge a queue from the queues page', async () => {
    const page = await browser.newPage({ httpCredentials: { username: 'admin', password: 's3cret' } });
    try {
      // Held an hour in the queue's delayed set: purge takes it too.
      await worker.app.get(TaskClient).sendTask('tasks.add', [1, 2], {}, { queue, countdown: 3600 });
      page.on('dialog', (d) => void d.accept());
      await page.goto(`${dash.url}#/queues`);
      const q = page.locator(`tr[data-queue="${queue}"]`);
      await waitFor(async () => (await q.innerText()).includes(host), 'the queue row with its consumer');
      await q.locator('button[data-action="purge"]').click();
      await page.locator('[data-testid="flash"]').waitFor();
      expect(await page.locator('[data-testid="flash"]').innerText()).toContain(`Purged 1 message from ${queue}.`);
    } finally {
      await page.close();
    }
  });

  it('--read-only shows no action and refuses every POST (taskq dashboard)', async () => {
    const cli: NodeChild = startNode(join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts'), [
      '-b',
      URL,
      'dashboard',
      '--port',
      '0',
      '--read-only',
      '--basic-auth',
      'ro:pw',
    ]);
    try {
      const [, url] = await cli.waitForOutput(/taskq dashboard on (http:\/\/\S+)/, 60_000);
      expect(cli.output()).not.toMatch(/pw/);
      const auth = `Basic ${Buffer.from('ro:pw').toString('base64')}`;
      const page = await browser.newPage({ httpCredentials: { username: 'ro', password: 'pw' } });
      for (const view of ['workers', 'queues', 'tasks']) {
        await page.goto(`${url}#/${view}`);
        await page.locator('[data-testid="live"]').waitFor();
        await page.locator(`[data-testid="${view}"]`).or(page.locator('.empty')).first().waitFor();
        expect(await page.locator('button[data-action]').count()).toBe(0);
      }
      await page.goto(`${url}#/workers`);
      await page.locator(`tr[data-worker="${host}"]`).waitFor({ timeout: 20_000 });
      expect(await page.locator('button[data-action]').count()).toBe(0);
      await page.close();
      const s = await session(url, { authorization: auth });
      const res = await fetch(`${url}api/actions/purge`, {
        method: 'POST',
        headers: { authorization: auth, cookie: s.cookie, 'x-csrf-token': s.csrf, 'content-type': 'application/json' },
        body: JSON.stringify({ queue }),
      });
      expect(res.status).toBe(403);
      expect(((await res.json()) as { message: string }).message).toMatch(/read-only/);
    } finally {
      await cli.kill('SIGTERM');
    }
  });

  describe('mounted in an app', () => {
    let app: INestApplication;
    let base: string;

    afterEach(async () => {
      await app?.close();
    });

    async function boot(module: Parameters<typeof Test.createTestingModule>[0]['imports']): Promise<void> {
      const ref = await Test.createTestingModule({ imports: module }).compile();
      app = ref.createNestApplication({ logger: false });
      await app.listen(0, '127.0.0.1');
      base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
    }

    it('apps/api serves it at /dashboard, with the broker URL masked', async () => {
      process.env.TASKQUEUE_BROKER_URL = URL.replace('redis://', 'redis://:hunter2@');
      process.env.TASKQUEUE_RESULT_BACKEND = URL;
      let ApiModule: unknown;
      try {
        ({ ApiModule } = await import('../../apps/api/src/api.module'));
      } finally {
        delete process.env.TASKQUEUE_BROKER_URL;
        delete process.env.TASKQUEUE_RESULT_BACKEND;
      }
      await boot([ApiModule as never]);
      const page = await fetch(`${base}/dashboard`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<base href="/dashboard/">');
      const s = await (await fetch(`${base}/dashboard/api/session`)).text();
      expect(s).not.toContain('hunter2');
      expect((await fetch(`${base}/dashboard/metrics`)).status).toBe(200);
    });

    it("runs the app's guard on every route", async () => {
      await boot([
        TaskQueueModule.forRoot({ brokerUrl: URL, resultBackend: URL, isGlobal: true }),
        TaskQueueDashboardModule.register({ path: 'ops/tasks', guard: AdminHeaderGuard, monitor: { historyPrefix } }),
      ]);
      expect((await fetch(`${base}/ops/tasks/api/workers`)).status).toBe(403);
      expect((await fetch(`${base}/ops/tasks/metrics`)).status).toBe(403);
      expect((await fetch(`${base}/ops/tasks/api/workers`, { headers: { 'x-admin': 'yes' } })).status).toBe(200);
    });
  });
});
