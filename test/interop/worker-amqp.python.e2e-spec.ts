import { ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { CurrentTask, SharedTask, TaskContext, TaskFailedError } from 'nestjs-celery';
import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { PYTHON, PythonWorker, runPythonJson, startPythonWorker, py } from '../support/python-celery';
import { deleteResults, inspector, redisUrl } from '../support/redis-test.helpers';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker } from '../support/amqp-fixtures';
import { suiteDb } from '../support/test-env';

const run = promisify(execFile);
const APP_DIR = join(__dirname, '..', 'python');
const REDIS_DB = suiteDb('amqpResults');
const REDIS = redisUrl(REDIS_DB);

/** How often each test task ran, by key (the worker runs in this process). */
const runs = new Map<string, number>();
const ran = (key: string) => runs.set(key, (runs.get(key) ?? 0) + 1);

@Injectable()
class AmqpTestTasks {
  @SharedTask('amqp.count')
  count(key: string): string {
    ran(key);
    return key;
  }

  @SharedTask('amqp.retry_once')
  retryOnce(key: string, countdown: number, @CurrentTask() ctx: TaskContext): string {
    ran(key);
    if (ctx.request.retries < 1) ctx.retry({ countdown });
    return `ok after ${ctx.request.retries} retry`;
  }
}

/**
 * The example worker (apps/worker TasksModule) on RabbitMQ next to real Python Celery 5.2.6:
 * calls both ways with rpc:// and Redis results, one queue shared by a Python and a Nest worker,
 * Celery's CLI (inspect ping, revoke, events --dump), and broker-held ETAs and retries.
 */
describe('AMQP: the Nest worker and Python Celery 5.2.6 on one vhost', () => {
  let vh: TestVhost;
  let r: Redis;
  let probe: AmqpBroker;
  const ids: string[] = [];
  const workers: RunningWorker[] = [];
  const clients: RunningClient[] = [];
  const pyWorkers: PythonWorker[] = [];
  const qRpc = uniqueName('nest-rpc');
  const qRedis = uniqueName('nest-redis');
  const qShared = uniqueName('shared');
  const hostRpc = `${uniqueName('nest-rpc')}@test`;
  const hostRedis = `${uniqueName('nest-redis')}@test`;

  beforeAll(async () => {
    vh = await createTestVhost('worker-interop');
    r = inspector(REDIS_DB);
    probe = newBroker(vh.url, { publishTimeout: 20_000 });
    const worker = { concurrency: 4, sendTaskEvents: true };
    workers.push(
      await startWorker(
        { brokerUrl: vh.url, resultBackend: 'rpc://', worker: { ...worker, queues: [qRpc], hostname: hostRpc } },
        { imports: [TasksModule], providers: [AmqpTestTasks] },
      ),
    );
    workers.push(
      await startWorker(
        {
          brokerUrl: vh.url,
          resultBackend: REDIS,
          worker: { ...worker, queues: [qRedis, qShared], hostname: hostRedis },
        },
        { imports: [TasksModule], providers: [AmqpTestTasks] },
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all(pyWorkers.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(workers.map((w) => w.close()));
    await probe?.close();
    if (r) {
      await deleteResults(r, ids);
      await r.quit();
    }
    await vh?.delete();
  }, 120_000);

  const pyEnv = (backend: string) => ({ TQ_BROKER: vh.url, TQ_BACKEND: backend });
  type Out = { id: string; result?: unknown; exc_type?: string; exc_str?: string; state?: string };
  /** Sends with Python (`send` is an expression using `app`), waits for get(), prints the outcome. */
  async function pyCall(send: string, backend: string): Promise<Out> {
    const out = await runPythonJson<Out>(
      `import json\nfrom celery_app import app\nr = ${send}\nout = {"id": r.id}\ntry:\n    out["result"] = r.get(timeout=30)\nexcept Exception as exc:\n    out["exc_type"] = type(exc).__name__\n    out["exc_str"] = str(exc)\nout["state"] = r.state\nprint(json.dumps(out))\n`,
      pyEnv(backend),
      60_000,
    );
    ids.push(out.id);
    return out;
  }
  const meta = async (id: string) =>
    JSON.parse((await r.get(`celery-task-meta-${id}`)) ?? 'null') as { status: string; result: unknown } | null;
  /**
   * Messages in each delay level (exact, by passive declare). Tests look at the level their own delay
   * enters first (the highest 1 bit of the whole seconds), as other tests' messages share the topology.
   */
  const delayedLevels = async () =>
    Promise.all(Array.from({ length: 28 }, (_, l) => probe.queueLength(`celery_delayed_${l}`)));
  async function queueRow(queue: string): Promise<{ ready: number; unacked: number }> {
    const row = (await vh.list('queues', ['name', 'messages_ready', 'messages_unacknowledged'])).find(
      (q) => q[0] === queue,
    );
    return { ready: Number(row?.[1] ?? 0), unacked: Number(row?.[2] ?? 0) };
  }

  describe.each([
    ['rpc://', () => 'rpc://', () => qRpc],
    ['redis://…/10', () => REDIS, () => qRedis],
  ])('Python client -> Nest worker, results on %s', (_label, backend, queue) => {
    it('send_task("tasks.add", (2, 3)).get() is 5, and kwargs work too', async () => {
      await expect(
        pyCall(`app.send_task("tasks.add", (2, 3), queue=${py(queue())})`, backend()),
      ).resolves.toMatchObject({ result: 5, state: 'SUCCESS' });
      await expect(
        pyCall(`app.send_task("tasks.add", kwargs={"x": 2, "y": 3}, queue=${py(queue())})`, backend()),
      ).resolves.toMatchObject({ result: 5 });
    });

    it('tasks.fail raises in Python with our message', async () => {
      const out = await pyCall(`app.send_task("tasks.fail", ("the disk is full",), queue=${py(queue())})`, backend());
      expect(out.result).toBeUndefined();
      expect(out.exc_type).toBe('Error');
      expect(out.exc_str).toBe('the disk is full');
      expect(out.state).toBe('FAILURE');
    });
  });

  describe.each([
    ['rpc://', () => 'rpc://'],
    ['redis://…/10', () => REDIS],
  ])('Nest client -> Python worker, results on %s', (_label, backend) => {
    const queue = uniqueName('py');
    let client: RunningClient;
    beforeAll(async () => {
      pyWorkers.push(
        await startPythonWorker({
          broker: vh.url,
          backend: backend(),
          queues: [queue],
          hostname: `${uniqueName('py')}@test`,
          readyTimeoutMs: 60_000,
        }),
      );
      client = await startClient({ brokerUrl: vh.url, resultBackend: backend() });
      clients.push(client);
    }, 90_000);

    it('sendTask("py.add", [2, 3]).get() is 5', async () => {
      const res = await client.client.sendTask<number>('py.add', [2, 3], {}, { queue });
      ids.push(res.id);
      await expect(res.get({ timeout: 30_000 })).resolves.toBe(5);
    });

    it('py.fail rejects with TaskFailedError ValueError', async () => {
      const res = await client.client.sendTask('py.fail', ['boom'], {}, { queue });
      ids.push(res.id);
      const err = await res.get({ timeout: 30_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TaskFailedError);
      expect(err).toMatchObject({ excType: 'ValueError', excMessage: ['boom'], state: 'FAILURE' });
    });
  });

  it('a Python worker and ours share one queue without redeclare errors, and both run some tasks', async () => {
    const pyHost = `${uniqueName('py-shared')}@test`;
    const pw = await startPythonWorker({
      app: 'shared_app',
      broker: vh.url,
      backend: REDIS,
      queues: [qShared],
      hostname: pyHost,
    });
    pyWorkers.push(pw);
    const n = 60;
    const out = await runPythonJson<{ ids: string[]; results: number[] }>(
      `import json\nfrom celery_app import app\nrs = [app.send_task("tasks.add", (i, 1), queue=${py(qShared)}) for i in range(${n})]\nprint(json.dumps({"ids": [r.id for r in rs], "results": [r.get(timeout=60) for r in rs]}))\n`,
      pyEnv(REDIS),
      120_000,
    );
    ids.push(...out.ids);
    expect(out.results).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const byPython = (pw.logs().match(/Task tasks\.add\[[^\]]+\] succeeded/g) ?? []).length;
    console.log(`shared queue: ${byPython} of ${n} run by Python, ${n - byPython} by the Nest worker`);
    expect(byPython).toBeGreaterThan(0);
    expect(byPython).toBeLessThan(n);
    expect(pw.logs()).not.toMatch(/PRECONDITION_FAILED|inequivalent arg|Unrecoverable error/i);
  }, 180_000);

  it('`celery inspect ping` over AMQP gets pong from our worker', async () => {
    const { stdout } = await run(
      PYTHON,
      ['-m', 'celery', '-A', 'celery_app', 'inspect', 'ping', '-d', hostRedis, '-t', '5'],
      {
        cwd: APP_DIR,
        env: { ...process.env, PYTHONPATH: APP_DIR, ...pyEnv('') },
        timeout: 60_000,
      },
    );
    expect(stdout).toContain(hostRedis);
    expect(stdout).toMatch(/OK[\s\S]*pong/);
  });

  it('app.control.revoke from Python reaches our worker: a task waiting for its eta ends REVOKED', async () => {
    const sent = await runPythonJson<{ id: string }>(
      `import json\nfrom celery_app import app\nr = app.send_task("tasks.add", (1, 1), queue=${py(qRedis)}, countdown=4)\napp.control.revoke(r.id)\nprint(json.dumps({"id": r.id}))\n`,
      pyEnv(REDIS),
    );
    ids.push(sent.id);
    await waitFor(async () => (await meta(sent.id))?.status === 'REVOKED', 'REVOKED in Redis', 30_000);
  });

  it('`celery events --dump` shows our worker-heartbeat', async () => {
    const child: ChildProcess = spawn(PYTHON, ['-m', 'celery', '-A', 'celery_app', 'events', '--dump'], {
      cwd: APP_DIR,
      env: { ...process.env, PYTHONPATH: APP_DIR, ...pyEnv('') },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    try {
      await waitFor(
        () => out.split('\n').some((l) => l.includes(hostRpc) && /heartbeat/.test(l)),
        `a worker-heartbeat of ${hostRpc} in:\n${out}`,
        30_000,
      );
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('a Python countdown to our queue is deferred to the broker (nothing unacked in the worker) and runs once when due', async () => {
    const key = uniqueName('eta');
    const far = uniqueName('far');
    const sent = await runPythonJson<{ id: string; far: string }>(
      `import json\nfrom celery_app import app\nr = app.send_task("amqp.count", (${py(key)},), queue=${py(qRedis)}, countdown=6)\n` +
        `f = app.send_task("amqp.count", (${py(far)},), queue=${py(qRedis)}, countdown=3600)\nprint(json.dumps({"id": r.id, "far": f.id}))\n`,
      pyEnv(REDIS),
    );
    ids.push(sent.id, sent.far);
    // Both come to the worker at once; it moves them into the delay topology and acks them:
    // 5 s (6 s rounded down on arrival) waits first in level 2, 3599 s in level 11.
    await waitFor(
      async () => {
        const levels = await delayedLevels();
        return levels[2] >= 1 && levels[11] >= 1;
      },
      'both messages in the delay queues',
      15_000,
    );
    expect(await queueRow(qRedis)).toEqual({ ready: 0, unacked: 0 });
    expect(runs.get(key)).toBeUndefined();
    await waitFor(async () => (await meta(sent.id))?.status === 'SUCCESS', 'the countdown task to succeed', 30_000);
    expect(runs.get(key)).toBe(1);
    expect(runs.get(far)).toBeUndefined();
    expect((await delayedLevels())[11]).toBe(1);
    expect(await queueRow(qRedis)).toEqual({ ready: 0, unacked: 0 });
  });

  it('a retry with a countdown waits in the delay topology, then runs', async () => {
    const key = uniqueName('retry');
    const client = await startClient({ brokerUrl: vh.url, resultBackend: REDIS });
    clients.push(client);
    const res = await client.client.sendTask<string>('amqp.retry_once', [key, 9], {}, { queue: qRedis });
    ids.push(res.id);
    await waitFor(async () => (await meta(res.id))?.status === 'RETRY', 'RETRY state', 15_000);
    // 9 s, 8 whole seconds once published: waits in level 3, which nothing else here uses yet.
    await waitFor(async () => (await delayedLevels())[3] === 1, 'the retry in the delay queues', 10_000);
    expect(runs.get(key)).toBe(1);
    await expect(res.get({ timeout: 30_000 })).resolves.toBe('ok after 1 retry');
    expect(runs.get(key)).toBe(2);
  });
});
