import { join } from 'node:path';
import Redis from 'ioredis';
import { Browser, Page } from 'playwright-core';
import { AsyncResult, BeatService, RunningDashboard, TaskClient, startStandaloneDashboard } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { PythonWorker, startPythonWorker } from '../support/python-celery';
import { NodeRun, ROOT, runNode, startNode } from '../support/node-process';
import {
  deletePrefix,
  deleteResults,
  inspector,
  queueKeys,
  removeBindingsMentioning,
} from '../support/redis-test.helpers';
import { suiteDb, redisUrlFor } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { launchChromium, metricValue } from './support/browser';

/**
 * The dashboard in a real browser (headless Chromium), served standalone as `taskq dashboard` serves
 * it, over Redis DB 12 with our worker (task events on) and a Python Celery 5.2.6 worker started
 * with `-E`. Then the monitoring CLI (`taskq status/queues/events`) against the same two workers.
 */
describe('Dashboard: pages, live updates, actions, history and metrics (Redis, our worker + Python worker)', () => {
  const DB = suiteDb('dashboard');
  const URL = redisUrlFor(DB);
  const run = uniqueName('dash');
  const qNode = `${run}-node`;
  const qPy = `${run}-py`;
  const nodeHost = `node-${run}@test`;
  const pyHost = `py-${run}@test`;
  const historyPrefix = `${run}:monitor:`;
  const CLI = join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts');
  const ids: string[] = [];
  const named: Record<string, string> = {};
  let r: Redis;
  let worker: RunningWorker;
  let python: PythonWorker;
  let producer: RunningClient;
  let client: TaskClient;
  let dash: RunningDashboard;
  let browser: Browser;
  let page: Page;

  const startDashboard = () =>
    startStandaloneDashboard({
      taskQueue: { brokerUrl: URL, resultBackend: URL },
      port: 0,
      monitor: { historyPrefix, queues: [qNode, qPy], inspectIntervalSeconds: 1, queueIntervalSeconds: 1 },
    });
  const taskq = (...args: string[]): Promise<NodeRun> => runNode(CLI, ['-b', URL, ...args], {}, 90_000);
  const send = async (name: string, args: unknown[], queue: string) => {
    const res = await client.sendTask(name, args, {}, { queue });
    ids.push(res.id);
    return res;
  };
  const row = (id: string) => page.locator(`tr[data-task-id="${id}"]`);

  beforeAll(async () => {
    r = inspector(DB);
    [worker, python, producer] = await Promise.all([
      startWorker(
        {
          brokerUrl: URL,
          resultBackend: URL,
          worker: { queues: [qNode], concurrency: 4, hostname: nodeHost, sendTaskEvents: true },
        },
        { imports: [TasksModule] },
      ),
      startPythonWorker({
        broker: URL,
        backend: URL,
        queues: [qPy],
        hostname: pyHost,
        args: ['--without-mingle', '--without-gossip', '-E'],
      }),
      startClient({ brokerUrl: URL, resultBackend: URL }),
    ]);
    client = producer.client;
    dash = await startDashboard();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await dash?.close();
    await Promise.allSettled([worker?.close(), python?.stop(), producer?.close()]);
    await deleteResults(r, ids);
    await deletePrefix(r, historyPrefix);
    await r.del(...queueKeys(qNode), ...queueKeys(qPy));
    await removeBindingsMentioning(r, [qNode, qPy, pyHost, nodeHost]);
    r.disconnect();
  });

  it('lists our worker and the Python worker as online, with their queues', async () => {
    await page.goto(`${dash.url}#/workers`);
    for (const [host, queue] of [
      [nodeHost, qNode],
      [pyHost, qPy],
    ]) {
      const w = page.locator(`tr[data-worker="${host}"]`);
      await w.waitFor({ timeout: 20_000 });
      await waitFor(
        async () => (await w.innerText()).includes('online') && (await w.innerText()).includes(queue),
        `${host} online with queue ${queue}`,
      );
    }
  });

  it('shows a task appear and reach SUCCESS live, without reloading the page', async () => {
    await page.goto(`${dash.url}#/tasks`);
    await page.locator('[data-live="true"]').waitFor();
    const marker = await page.evaluate(() => ((window as unknown as { marker: number }).marker = Math.random()));
    const node = await send('tasks.add', [2, 3], qNode);
    const py = await send('py.add', [4, 5], qPy);
    named.py = py.id;
    await row(node.id).locator('[data-state="SUCCESS"]').waitFor({ timeout: 20_000 });
    await row(py.id).locator('[data-state="SUCCESS"]').waitFor({ timeout: 20_000 });
    expect(await row(node.id).locator('[data-col="result"]').innerText()).toBe('5');
    expect(await row(py.id).locator('[data-col="result"]').innerText()).toBe('9');
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(marker); // same page: no reload
  });

  it('shows a <script> in args as text, never as markup', async () => {
    const res = await send(
      'tasks.add',
      ['<script>window.__xss=1</script>', '<img src=x onerror="window.__xss=2">'],
      qNode,
    );
    named.xss = res.id;
    await res.get({ timeout: 20_000 });
    await page.goto(`${dash.url}#/task/${res.id}`);
    const args = page.locator(`[data-testid="task-detail"][data-task-id="${res.id}"] [data-testid="args"]`);
    await waitFor(
      async () => (await args.innerText()).includes('<script>window.__xss=1</script>'),
      'the args shown as text',
    );
    expect(await args.innerText()).toContain('<img src=x onerror="window.__xss=2">');
    expect(await page.locator('[data-testid="result"]').innerText()).toContain('<script>');
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('the task page shows args, result, worker and the timeline of events', async () => {
    const res = await send('tasks.add', [20, 22], qNode);
    await res.get({ timeout: 20_000 });
    await page.goto(`${dash.url}#/task/${res.id}`);
    const timeline = page.locator(`[data-testid="task-detail"][data-task-id="${res.id}"] [data-testid="timeline"]`);
    await waitFor(
      async () => (await timeline.innerText()).includes('task-succeeded'),
      'the succeeded event in the timeline',
    );
    expect(await timeline.innerText()).toMatch(/task-received[\s\S]*task-started[\s\S]*task-succeeded/);
    expect(await page.locator('[data-testid="args"]').innerText()).toBe('(20, 22)');
    expect(await page.locator('[data-testid="result"]').innerText()).toBe('42');
    expect(await page.locator('[data-testid="task-detail"]').innerText()).toContain(nodeHost);
  });

  it('a chain: the task page links its child and lists the rest of its workflow', async () => {
    const step = (args: unknown[]) => client.signature('tasks.add', args, {}, { queue: qNode });
    const last = (await client.chain(step([1, 1]), step([10]))) as AsyncResult;
    ids.push(last.id);
    expect(await last.get({ timeout: 20_000 })).toBe(12);
    const first = await waitFor(
      async () =>
        ((await (await fetch(`${dash.url}api/tasks/${last.id}`)).json()) as { task: { parentId: string | null } }).task
          .parentId,
      'the parent of the last step',
    );
    ids.push(first);
    await page.goto(`${dash.url}#/task/${first}`);
    const detail = page.locator(`[data-testid="task-detail"][data-task-id="${first}"]`);
    await waitFor(async () => (await detail.innerText()).includes(last.id), 'the child linked on the first step');
    await detail.locator(`a[href="#/task/${last.id}"]`).first().click();
    const lastPage = page.locator(`[data-testid="task-detail"][data-task-id="${last.id}"]`);
    await lastPage.waitFor();
    expect(await lastPage.innerText()).toContain(`Same workflow (root ${first})`);
  });

  it('a revoke clicked on the tasks page terminates a sleeping task', async () => {
    await page.goto(`${dash.url}#/tasks`);
    const res = await send('tasks.sleep', [120], qNode);
    named.sleep = res.id;
    await row(res.id).locator('[data-state="STARTED"]').waitFor({ timeout: 20_000 });
    await row(res.id).locator('button[data-action="revoke"]').click();
    await page.locator('[data-testid="replies"]').waitFor();
    expect(await page.locator('[data-testid="replies"]').innerText()).toContain(nodeHost);
    await row(res.id).locator('[data-state="REVOKED"]').waitFor({ timeout: 20_000 });
    expect((await client.asyncResult(res.id).meta()).status).toBe('REVOKED');
  });

  it('filters the task list by state, name, worker and a search', async () => {
    await page.goto(`${dash.url}#/tasks`);
    const shown = async (col: (row: string) => boolean, id: string) => {
      const rows = await page.locator('tr[data-task-id]').allInnerTexts();
      return rows.length > 0 && rows.every(col) && (await row(id).count()) === 1;
    };
    await page.selectOption('select[name="state"]', 'REVOKED');
    await waitFor(() => shown((t) => t.includes('REVOKED'), named.sleep), 'only REVOKED tasks');
    await page.selectOption('select[name="state"]', '');
    await page.fill('input[name="name"]', 'py.add');
    await waitFor(() => shown((t) => t.startsWith('py.add'), named.py), 'only py.add tasks');
    await page.fill('input[name="name"]', '');
    await page.fill('input[name="worker"]', pyHost);
    await waitFor(() => shown((t) => t.includes(pyHost), named.py), 'only tasks of the Python worker');
    await page.fill('input[name="worker"]', '');
    await page.fill('input[name="search"]', 'window.__xss=1');
    await waitFor(
      () => shown((t) => t.includes('window.__xss=1'), named.xss),
      'only the task whose args match the search',
    );
    await page.fill('input[name="search"]', '');
    // Received-time window (the page's from/to fields send these).
    const inWindow = async (q: string) =>
      ((await (await fetch(`${dash.url}api/tasks?${q}`)).json()) as { tasks: Array<{ id: string }> }).tasks.map(
        (t) => t.id,
      );
    expect(await inWindow(`from=${Date.now() + 3_600_000}`)).toEqual([]);
    expect(await inWindow(`to=${new Date(Date.now() - 3_600_000).toISOString()}`)).toEqual([]);
    expect(await inWindow(`from=${Date.now() - 3_600_000}&to=${Date.now()}`)).toEqual(
      expect.arrayContaining([named.py, named.xss, named.sleep]),
    );
  });

  it('/metrics counts the tasks run, by name and worker', async () => {
    const text = await waitFor(async () => {
      const t = await (await fetch(`${dash.url}metrics`)).text();
      // tasks.add ran five times: (2, 3), the <script> args, (20, 22) and the chain's two steps.
      return metricValue(t, 'celery_task_succeeded_total', { name: 'tasks.add', hostname: nodeHost }) === 5 ? t : null;
    }, 'five tasks.add successes in /metrics');
    expect(metricValue(text, 'celery_task_succeeded_total', { name: 'py.add', hostname: pyHost })).toBe(1);
    expect(metricValue(text, 'celery_task_revoked_total', { name: 'tasks.sleep', hostname: nodeHost })).toBe(1);
    expect(metricValue(text, 'celery_task_runtime_seconds_count', { name: 'tasks.add', hostname: nodeHost })).toBe(5);
    expect(metricValue(text, 'celery_worker_up', { hostname: nodeHost })).toBe(1);
    expect(metricValue(text, 'celery_worker_up', { hostname: pyHost })).toBe(1);
    expect(text).toContain(`celery_queue_length{queue_name="${qNode}"} 0`);
    expect(text).toMatch(/celery_task_runtime_seconds_bucket\{le="3600"/);
  });

  it('taskq status, queues and events see our worker and the Python worker', async () => {
    const status = await taskq('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`-> ${nodeHost}: OK`);
    expect(status.stdout).toContain(`-> ${pyHost}: OK`);

    const queues = await taskq('queues', '--json', '-Q', `${qNode},${qPy}`);
    expect(queues.code).toBe(0);
    const byName = Object.fromEntries(
      queues.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .map((q) => [q.name, q]),
    );
    expect(byName[qNode]).toMatchObject({ ready: 0, delayed: 0, deadLetters: 0, consumers: [nodeHost] });
    expect(byName[qPy]).toMatchObject({ ready: 0, consumers: [pyHost] });

    // Heartbeats come every 2 s from both; one task on each shows task events of both.
    const tail = startNode(CLI, ['-b', URL, 'events', '--json']);
    try {
      await tail.waitForOutput(/"type":"listening"/, 60_000);
      await Promise.all([
        (await send('tasks.add', [1, 1], qNode)).get({ timeout: 20_000 }),
        (await send('py.add', [1, 1], qPy)).get({ timeout: 20_000 }),
      ]);
      const seen = () =>
        new Set(
          tail
            .output()
            .trim()
            .split('\n')
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l))
            .map((e) => `${e.hostname} ${e.type}`),
        );
      await waitFor(
        () => [nodeHost, pyHost].every((h) => seen().has(`${h} worker-heartbeat`) && seen().has(`${h} task-succeeded`)),
        'heartbeats and task-succeeded of both workers in taskq events',
      );
    } finally {
      await tail.kill('SIGINT');
    }
    expect((await tail.exited).code).toBe(0);

    // The default output is celery events --dump's line; --count ends it.
    const dump = await taskq('events', '--count', '3');
    expect(dump.code).toBe(0);
    const lines = dump.stdout.trim().split('\n').slice(1);
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\S+@\S+ \[\d{4}-\d\d-\d\dT[\d:.]+Z\] worker-heartbeat: .*freq=2/);
  });

  it('the periodic page lists beat entries and pauses one', async () => {
    const beat = dash.app.get(BeatService);
    const name = `${run}-hourly`;
    await beat.add(name, { task: 'tasks.add', args: [1, 2], schedule: { every: 3600 }, options: { queue: qNode } });
    try {
      await page.goto(`${dash.url}#/periodic`);
      const entry = page.locator(`tr[data-periodic="${name}"]`);
      await entry.waitFor();
      expect(await entry.innerText()).toContain('every 3600s');
      await entry.locator('button[data-action="pause_periodic"]').click();
      await entry.locator('button[data-action="resume_periodic"]').waitFor();
      expect(await entry.innerText()).toContain('paused');
      expect((await beat.get(name))!.paused).toBe(true);
    } finally {
      await beat.remove(name);
    }
  });

  it('keeps the history across a restart of the dashboard', async () => {
    const before = ids.slice();
    await dash.close();
    dash = await startDashboard();
    await page.goto(`${dash.url}#/tasks`);
    for (const id of before) await row(id).waitFor({ timeout: 10_000 });
    const api = (await (await fetch(`${dash.url}api/tasks?limit=1000`)).json()) as { tasks: Array<{ id: string }> };
    expect(api.tasks.map((t) => t.id)).toEqual(expect.arrayContaining(before));
    if (process.env.DASHBOARD_SCREENSHOT) await page.screenshot({ path: join(ROOT, 'docs', 'dashboard.png') });
  });
});
