import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Injectable, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { CELERY_FIXTURES } from '../support/celery-vectors';
import { CurrentTask, SharedTask, TaskClient, TaskContext, TaskControl, TaskQueueModule } from 'nestjs-celery';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { runPythonJson } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { CeleryProcess, startGossipWorker } from '../support/python-cli';
import { inspector, redisOptions, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/** DB 6: broker shared with Python (no key prefix); DB 5: results. */
const BROKER = redisUrl(suiteDb('redisPythonBroker'));
const BACKEND = redisUrl(suiteDb('redisPythonResults'));
const PY_ENV = { TQ_BROKER: BROKER, TQ_BACKEND: BACKEND };
const RETRY_VECTOR = JSON.parse(readFileSync(join(CELERY_FIXTURES, 'redis-task-envelope-retry.json'), 'utf8')) as {
  envelope: Record<string, any>;
};

const progressed: string[] = [];

/** Tasks registered on both sides (tq.*, see test/python/celery_redis_app.py) and one that reports progress. */
@Injectable()
class SharedTasks {
  @SharedTask('tq.flaky')
  flaky(key: string, @CurrentTask() ctx: TaskContext): Record<string, unknown> {
    if (ctx.request.retries === 0) ctx.retry({ countdown: 2 });
    return { ran_on: 'node', key, retries: ctx.request.retries };
  }

  @SharedTask('tq.bounce')
  bounce(key: string, @CurrentTask() ctx: TaskContext): Record<string, unknown> {
    return { ran_on: 'node', key, retries: ctx.request.retries, parent_id: ctx.request.parentId };
  }

  @SharedTask('tqtask.progress')
  async progress(@CurrentTask() ctx: TaskContext): Promise<string> {
    await ctx.updateState('PROGRESS', { done: 40, total: 100 });
    progressed.push(ctx.request.id);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    return 'stopped';
  }
}

/** Python reads a result through Celery's own AsyncResult. */
const pyResult = (id: string, wait = false) =>
  runPythonJson<{ state: string; info: unknown; result?: unknown }>(
    `import json\nfrom celery_app import app\nr = app.AsyncResult(${JSON.stringify(id)})\n` +
      (wait ? `v = r.get(timeout=30, propagate=False)\n` : '') +
      `info = r.info\nprint(json.dumps({"state": r.state, "info": info if isinstance(info, (dict, list, str, int, float, type(None))) else repr(info)}))`,
    PY_ENV,
    45_000,
  );

/** Task messages crossing between Python Celery 5.2.6 and our worker on Redis: eta, expires, retries, custom states. */
describe('Redis: task semantics across Python Celery and our worker', () => {
  let r: Redis;
  let rr: Redis;
  let queue: string;
  let worker: RunningWorker;
  let app: INestApplication;
  let client: TaskClient;
  let broker: RedisBroker;
  const queues: string[] = [];
  const ids: string[] = [];
  const hosts: string[] = [];
  const pythons: CeleryProcess[] = [];
  const extraWorkers: RunningWorker[] = [];

  const unackedHas = async (id: string) => Object.values(await r.hgetall('unacked')).some((v) => v.includes(id));

  beforeAll(async () => {
    r = inspector(suiteDb('redisPythonBroker'));
    rr = inspector(suiteDb('redisPythonResults'));
    queue = uniqueName('tq-sem');
    queues.push(queue);
    const hostname = `${uniqueName('node-sem')}@test`;
    hosts.push(hostname);
    worker = await startWorker(
      { brokerUrl: BROKER, resultBackend: BACKEND, worker: { hostname, queues: [queue] } },
      { imports: [TasksModule], providers: [SharedTasks] },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ brokerUrl: BROKER, resultBackend: BACKEND, defaultQueue: queue })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    client = app.get(TaskClient);
    broker = new RedisBroker(BROKER, redisOptions({ brokerUrl: BROKER }));
  });

  afterAll(async () => {
    for (const p of pythons) await p.stop();
    for (const w of extraWorkers) await w.close();
    await worker?.close();
    await app?.close();
    await broker?.close();
    for (const q of queues)
      await r.del(q, `${q}\x06\x163`, `${q}\x06\x166`, `${q}\x06\x169`, `_kombu.binding.${q}`, `_taskq.delayed.${q}`);
    for (const key of ['_kombu.binding.celery.pidbox', '_kombu.binding.celeryev']) {
      for (const m of await r.smembers(key)) if (hosts.some((h) => m.includes(h))) await r.srem(key, m);
    }
    if (ids.length) await rr.del(...ids.map((id) => `celery-task-meta-${id}`));
    await r.quit();
    await rr.quit();
  });

  it("a Python client's countdown and eta tasks wait in our delayed set (not unacked), then run when due", async () => {
    const sent = await runPythonJson<{ countdown: string; eta: string }>(
      `import json\nfrom datetime import datetime, timedelta, timezone\nfrom celery_app import app\n` +
        `a = app.send_task('tasks.add', args=(2, 3), queue=${JSON.stringify(queue)}, countdown=3)\n` +
        `b = app.send_task('tasks.mul', args=(4, 5), queue=${JSON.stringify(queue)}, eta=datetime.now(timezone.utc) + timedelta(seconds=3))\n` +
        `print(json.dumps({"countdown": a.id, "eta": b.id}))`,
      PY_ENV,
    );
    ids.push(sent.countdown, sent.eta);
    // Our worker received both from the list (Python pushes eta messages at once) and deferred them to Redis.
    await waitFor(async () => (await broker.delayedLength(queue)) === 2, 'both messages in the delayed set', 10_000);
    expect(await unackedHas(sent.countdown)).toBe(false);
    expect(await unackedHas(sent.eta)).toBe(false);
    expect(await broker.queueLength(queue)).toBe(0);
    expect(await pyResult(sent.countdown, true)).toMatchObject({ state: 'SUCCESS', info: 5 });
    expect(await pyResult(sent.eta, true)).toMatchObject({ state: 'SUCCESS', info: 20 });
    expect(await broker.delayedLength(queue)).toBe(0);
  });

  it("a Python client's task whose expires is past is stored REVOKED and never runs", async () => {
    const sent = await runPythonJson<{ id: string }>(
      `import json\nfrom datetime import datetime, timedelta, timezone\nfrom celery_app import app\n` +
        `a = app.send_task('tasks.add', args=(1, 1), queue=${JSON.stringify(queue)}, expires=datetime.now(timezone.utc) - timedelta(seconds=30))\n` +
        `print(json.dumps({"id": a.id}))`,
      PY_ENV,
    );
    ids.push(sent.id);
    const res = await waitFor(
      async () => {
        const p = await pyResult(sent.id);
        return p.state !== 'PENDING' ? p : null;
      },
      'a stored state',
      20_000,
    );
    expect(res.state).toBe('REVOKED');
    expect(String(res.info)).toContain('expired');
  });

  it('a retry published by our worker is accepted and run by a Python worker', async () => {
    const rq = uniqueName('tq-sem-retry');
    queues.push(rq);
    const nodeHost = `${uniqueName('node-retry')}@test`;
    hosts.push(nodeHost);
    const node = await startWorker(
      { brokerUrl: BROKER, resultBackend: BACKEND, worker: { hostname: nodeHost, queues: [rq] } },
      { providers: [SharedTasks] },
    );
    const key = uniqueName('k');
    const result = await client.sendTask('tq.flaky', [key], {}, { queue: rq });
    ids.push(result.id);
    await waitFor(async () => (await result.state()) === 'RETRY', 'RETRY stored by our worker', 10_000);
    // Our worker is gone before the retry is due: only the Python worker consumes the queue now.
    await node.close();
    const [held] = await r.zrange(`_taskq.delayed.${rq}`, '0', '-1');
    expect(JSON.parse(held).headers).toMatchObject({
      id: result.id,
      retries: 1,
      parent_id: result.id,
      task: 'tq.flaky',
    });
    const pyHost = `${uniqueName('py-retry')}@test`;
    hosts.push(pyHost);
    pythons.push(
      await startGossipWorker({
        broker: BROKER,
        backend: BACKEND,
        queues: [rq],
        hostname: pyHost,
        app: 'celery_redis_app',
        gossip: false,
      }),
    );
    // A Node process that published nothing moves the due message (as any consumer of ours would).
    await waitFor(
      async () => {
        await broker.moveDue(rq);
        return (await result.state()) === 'SUCCESS';
      },
      'the Python worker to run the retry',
      30_000,
    );
    expect(await result.get({ timeout: 1000 })).toEqual({ ran_on: 'python', key, retries: 1, parent_id: result.id });
  });

  it("a Python worker's own retry message (self.retry) is run by our worker", async () => {
    const pq = uniqueName('tq-sem-pyretry');
    queues.push(pq);
    const pyHost = `${uniqueName('py-bounce')}@test`;
    hosts.push(pyHost);
    const py = await startGossipWorker({
      broker: BROKER,
      backend: BACKEND,
      queues: [pq],
      hostname: pyHost,
      app: 'celery_redis_app',
      gossip: false,
    });
    pythons.push(py);
    const key = uniqueName('k');
    const sent = await runPythonJson<{ id: string }>(
      `import json\nfrom celery_app import app\na = app.send_task('tq.bounce', args=(${JSON.stringify(key)},), queue=${JSON.stringify(pq)})\nprint(json.dumps({"id": a.id}))`,
      PY_ENV,
    );
    ids.push(sent.id);
    const result = client.asyncResult(sent.id);
    await waitFor(async () => (await result.state()) === 'RETRY', 'RETRY stored by the Python worker', 20_000);
    // Warm stop: a Python worker gives back the eta message it held (kombu restores it to the list).
    await py.stop();
    const nodeHost = `${uniqueName('node-bounce')}@test`;
    hosts.push(nodeHost);
    extraWorkers.push(
      await startWorker(
        { brokerUrl: BROKER, resultBackend: BACKEND, worker: { hostname: nodeHost, queues: [pq] } },
        { providers: [SharedTasks] },
      ),
    );
    expect(await result.get({ timeout: 20_000 })).toEqual({ ran_on: 'node', key, retries: 1, parent_id: sent.id });
  });

  it('runs the retry message shape Celery publishes (captured vector, our ids)', async () => {
    const id = randomUUID();
    ids.push(id);
    const env = structuredClone(RETRY_VECTOR.envelope);
    Object.assign(env.headers, {
      task: 'tasks.add',
      id,
      root_id: id,
      parent_id: id,
      argsrepr: '(40, 2)',
      eta: new Date(Date.now() + 1500).toISOString().replace('Z', '+00:00'),
    });
    env.body = Buffer.from(
      JSON.stringify([[40, 2], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
    ).toString('base64');
    Object.assign(env.properties, {
      correlation_id: id,
      delivery_tag: randomUUID(),
      delivery_info: { exchange: '', routing_key: queue },
    });
    await r.lpush(queue, JSON.stringify(env));
    expect(await client.asyncResult(id).get({ timeout: 20_000 })).toBe(42);
  });

  it("a custom state set with updateState('PROGRESS', …) is read by Python's AsyncResult state and info", async () => {
    const result = await client.sendTask('tqtask.progress', [], {}, { queue });
    ids.push(result.id);
    await waitFor(() => progressed.includes(result.id), 'the task to report progress');
    expect(await pyResult(result.id)).toEqual({ state: 'PROGRESS', info: { done: 40, total: 100 } });
    await app.get(TaskControl).revoke(result.id, { terminate: true });
    await expect(result.get({ timeout: 10_000 })).rejects.toMatchObject({ state: 'REVOKED' });
  });
});
