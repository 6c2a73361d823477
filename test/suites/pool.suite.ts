import { INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Redis from 'ioredis';
import { readFileSync } from 'node:fs';
import { AsyncResult, Broker, TASK_QUEUE_BROKER, TaskClient, TaskQueueModule, TaskState } from 'nestjs-celery';
import { WorkerProcess, startWorkerProcess } from '../support/worker-process';
import { celeryCli } from '../support/python-cli';
import { createTestVhost, TestVhost } from '../support/rabbitmq';
import { suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

/** Redis DB of the pool suites: results of every run, and the broker of the Redis runs. */
const REDIS_URL = suiteRedisUrl('pool');

/** Where a pool suite's messages go: Redis, or RabbitMQ in a vhost of its own (results in Redis). */
export interface PoolBroker {
  name: 'redis' | 'amqp';
  /** Broker URL for our worker, the test client and Python's tools. */
  setup(): Promise<string>;
  /** Messages waiting in a queue (ready, not delivered). */
  ready(queue: string): Promise<number>;
  teardown(): Promise<void>;
}

export function redisPoolBroker(): PoolBroker {
  return {
    name: 'redis',
    setup: async () => REDIS_URL,
    ready: async (queue) => {
      const r = new Redis(REDIS_URL);
      try {
        return await r.llen(queue);
      } finally {
        await r.quit();
      }
    },
    teardown: async () => undefined,
  };
}

export function amqpPoolBroker(): PoolBroker {
  let vhost: TestVhost | null = null;
  return {
    name: 'amqp',
    setup: async () => (vhost = await createTestVhost('tq-pool')).url,
    ready: async (queue) => {
      const rows = await vhost!.list('queues', ['name', 'messages_ready']);
      return Number(rows.find((r) => r[0] === queue)?.[1] ?? 0);
    },
    teardown: async () => {
      await vhost?.delete();
    },
  };
}

/** Deletes every key of the pool DB that names one of ours, and our members of kombu's binding sets. */
async function cleanRedis(names: string[], ids: string[]): Promise<void> {
  const r = new Redis(REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (names.some((n) => key.includes(n))) await r.del(key);
      else if (key.startsWith('_kombu.binding.'))
        for (const m of await r.smembers(key)) if (names.some((n) => m.includes(n))) await r.srem(key, m);
    }
  } while (cursor !== '0');
  if (ids.length) await r.del(...ids.map((id) => `celery-task-meta-${id}`));
  await r.quit();
}

/** Is the process alive? A killed child whose parent died first stays a zombie until init reaps it: that counts as dead. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

interface Started {
  worker: WorkerProcess;
  queue: string;
  hostname: string;
}

/**
 * The pool's guarantees, proved against the real worker app (apps/worker, run from source as a
 * child process) with one broker and one pool kind. Pool of 2, recycled after 4 tasks or 320000 KiB,
 * JS heap capped at 600 MB.
 */
export function poolSuite(target: PoolBroker, kind: 'threads' | 'processes'): void {
  describe(`${target.name} broker, ${kind} pool`, () => {
    let brokerUrl: string;
    let main: Started;
    let app: INestApplicationContext;
    let client: TaskClient;
    let broker: Broker;
    const ids: string[] = [];
    const names: string[] = [];
    const workers: WorkerProcess[] = [];

    const startWorker = async (extra: Record<string, string> = {}): Promise<Started> => {
      const queue = uniqueName(`tq-pool-${kind}`);
      const hostname = `${uniqueName('pool')}@test`;
      names.push(queue, hostname);
      const worker = await startWorkerProcess(
        {
          TASKQUEUE_BROKER_URL: brokerUrl,
          TASKQUEUE_RESULT_BACKEND: REDIS_URL,
          TASKQUEUE_DEFAULT_QUEUE: queue,
          TASKQUEUE_HOSTNAME: hostname,
          TASKQUEUE_POOL: kind,
          TASKQUEUE_POOL_SIZE: '2',
          ...extra,
        },
        90_000,
      );
      workers.push(worker);
      return { worker, queue, hostname };
    };

    const send = async (
      w: Started,
      task: string,
      args: unknown[],
      options: { timeLimit?: number; softTimeLimit?: number } = {},
    ): Promise<AsyncResult> => {
      const r = await client.sendTask(task, args, {}, { queue: w.queue, ...options });
      ids.push(r.id);
      return r;
    };
    const progressOf = async (r: AsyncResult): Promise<{ done: number; worker: string } | null> =>
      (await r.state()) === 'PROGRESS' ? ((await r.info()) as { done: number; worker: string }) : null;
    const failure = async (r: AsyncResult): Promise<{ type: string; message: string }> => {
      const err = await r.get({ timeout: 60_000 }).then(
        () => null,
        (e: { excType?: string; message: string }) => e,
      );
      if (!err) throw new Error(`Task ${r.id} succeeded; a failure was expected.`);
      return { type: err.excType ?? '', message: err.message };
    };

    beforeAll(async () => {
      brokerUrl = await target.setup();
      @Module({ imports: [TaskQueueModule.forRoot({ brokerUrl, resultBackend: REDIS_URL })] })
      class ClientModule {}
      app = await NestFactory.createApplicationContext(ClientModule, { logger: false });
      client = app.get(TaskClient);
      broker = app.get(TASK_QUEUE_BROKER);
      main = await startWorker({
        TASKQUEUE_MAX_TASKS_PER_CHILD: '4',
        TASKQUEUE_MAX_MEMORY_PER_CHILD: '320000',
        TASKQUEUE_MAX_HEAP_PER_CHILD: '600',
      });
    }, 120_000);

    afterAll(async () => {
      for (const w of workers) {
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
        await w.exited;
      }
      await app?.close();
      await cleanRedis(names, ids);
      await target.teardown();
    }, 60_000);

    it('stays responsive while every pool worker is busy: Python `celery inspect ping` answers, heartbeats go on, event-loop tasks run; revoke --terminate kills one pool worker', async () => {
      // Our worker's heartbeats (worker.heartbeat on celeryev, every 2 s), as a monitor receives them.
      let heartbeats = 0;
      const listener = uniqueName('tq-pool-ev');
      names.push(listener);
      const stopListening = await broker.listen!(
        { name: 'celeryev', type: 'topic', durable: true },
        { name: listener, bindingKey: 'worker.heartbeat', autoDelete: true, expiresMs: 60_000 },
        (m) => {
          if (JSON.stringify(m).includes(main.hostname)) heartbeats++;
        },
      );
      const busy = [await send(main, 'tasks.crunch', [600, false]), await send(main, 'tasks.crunch', [600, false])];
      const running = await waitFor(
        async () => {
          const p = await Promise.all(busy.map(progressOf));
          return p.every(Boolean) ? p : null;
        },
        'both CPU tasks to run in the pool',
        60_000,
      );
      expect(new Set(running.map((p) => p!.worker)).size).toBe(2);

      const ping = await celeryCli(['inspect', 'ping', '-d', main.hostname, '-t', '5'], { TQ_BROKER: brokerUrl });
      expect(ping.stdout).toContain(`${main.hostname}: OK`);
      expect(ping.stdout).toContain('pong');
      const add = await send(main, 'tasks.add', [20, 22]);
      expect(await add.get({ timeout: 20_000 })).toBe(42);
      const seen = heartbeats;
      await waitFor(() => heartbeats >= seen + 2, 'two more heartbeats from the busy worker', 20_000);
      await stopListening();
      // Both answers came while the CPU tasks were still running.
      for (const r of busy) expect(await r.state()).toBe('PROGRESS');

      await client.revoke(
        busy.map((r) => r.id),
        { terminate: true },
      );
      // The worker's log first: on a timeout it is printed, which tells where the revoke stopped.
      for (const p of running)
        await main.worker.waitForOutput(
          new RegExp(`Killing pool worker ${p!.worker}: tasks\\.crunch\\[[^\\]]+\\] was revoked with terminate`),
          30_000,
        );
      for (const r of busy)
        await waitFor(async () => (await r.state()) === TaskState.REVOKED, 'the terminated task to be REVOKED', 30_000);
    }, 150_000);

    it('hard time limit: the pool worker is killed and replaced, FAILURE TimeLimitExceeded; the other pool worker finishes its task', async () => {
      const other = await send(main, 'tasks.burn', [3000]);
      const stuck = await send(main, 'tasks.burn', [120_000], { timeLimit: 2 });
      const f = await failure(stuck);
      expect(f.type).toBe('TimeLimitExceeded');
      await main.worker.waitForOutput(
        new RegExp(`Killing pool worker \\d+:\\d+: tasks\\.burn\\[${stuck.id}\\] ran past its hard time limit of 2s`),
        10_000,
      );
      expect(await other.get({ timeout: 60_000 })).toMatchObject({ ms: 3000 });
      expect(await (await send(main, 'tasks.burn', [10])).get({ timeout: 60_000 })).toMatchObject({ ms: 10 });
    }, 150_000);

    it('keeps DI, @CurrentTask, progress, retry and the soft time limit inside the pool', async () => {
      const crunch = await send(main, 'tasks.crunch', [3, true]);
      expect(await crunch.get({ timeout: 60_000 })).toMatchObject({ total: 6, retries: 1, id: crunch.id });
      const soft = await send(main, 'tasks.crunch', [600, false], { softTimeLimit: 2 });
      await waitFor(() => progressOf(soft), 'PROGRESS from the pool', 60_000);
      expect((await failure(soft)).type).toBe('SoftTimeLimitExceeded');
    }, 150_000);

    it('a pool worker that exits is a WorkerLostError with its exit code; given back once, then dead-lettered', async () => {
      const crash = await send(main, 'tasks.crash', [3]);
      const f = await failure(crash);
      expect(f.type).toBe('WorkerLostError');
      expect(f.message).toContain('Worker exited prematurely: exit code 3');
      await main.worker.waitForOutput(
        new RegExp(
          `rejected \\(requeued\\): Worker exited prematurely: exit code 3\\..*tasks\\.crash\\[${crash.id}\\]`,
        ),
        10_000,
      );
      await main.worker.waitForOutput(
        new RegExp(
          `Worker exited prematurely: exit code 3\\..*tasks\\.crash\\[${crash.id}\\]\\. It had already been delivered before`,
        ),
        10_000,
      );
      const dead = await waitFor(
        async () => (await broker.readDeadLetters(main.queue)).find((d) => d.message.headers.id === crash.id),
        'the message in the dead-letter place',
        20_000,
      );
      expect(dead.reason).toContain('exit code 3');
    }, 150_000);

    it('a pool worker out of memory is a WorkerLostError that says so', async () => {
      const grow = await send(main, 'tasks.grow', [800]);
      const f = await failure(grow);
      expect(f.type).toBe('WorkerLostError');
      expect(f.message).toContain('out of memory: it reached its JS heap limit of 600 MB');
    }, 150_000);

    it('recycles by count and by memory without losing queued tasks', async () => {
      const burst = await Promise.all(Array.from({ length: 10 }, () => send(main, 'tasks.burn', [50])));
      const results = (await Promise.all(burst.map((r) => r.get({ timeout: 90_000 })))) as Array<{ worker: string }>;
      const perWorker = new Map<string, number>();
      for (const r of results) perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
      expect(Math.max(...perWorker.values())).toBeLessThanOrEqual(4);
      expect(perWorker.size).toBeGreaterThanOrEqual(3);
      await main.worker.waitForOutput(
        /Replacing pool worker \d+:\d+: it ran 4 task\(s\) \(worker\.maxTasksPerChild 4\)/,
        10_000,
      );

      const grow = (await (await send(main, 'tasks.grow', [250])).get({ timeout: 60_000 })) as { worker: string };
      await main.worker.waitForOutput(
        new RegExp(
          `Replacing pool worker ${grow.worker}: its memory, \\d+ KiB, is over worker\\.maxMemoryPerChild 320000 KiB`,
        ),
        10_000,
      );
      const next = (await (await send(main, 'tasks.burn', [10])).get({ timeout: 60_000 })) as { worker: string };
      expect(next.worker).not.toBe(grow.worker);
    }, 180_000);

    it('warm shutdown waits for the pool task to finish', async () => {
      const burn = await send(main, 'tasks.crunch', [20, false]);
      await waitFor(() => progressOf(burn), 'the CPU task to run', 60_000);
      main.worker.child.kill('SIGTERM');
      expect(await main.worker.exited).toBe(0);
      expect(await burn.get({ timeout: 10_000 })).toMatchObject({ total: 210 });
    }, 150_000);

    it('cold shutdown kills the pool task and gives its message back', async () => {
      const cold = await startWorker();
      const long = await send(cold, 'tasks.crunch', [600, false]);
      const p = await waitFor(() => progressOf(long), 'the CPU task to run', 60_000);
      cold.worker.child.kill('SIGTERM');
      await cold.worker.waitForOutput(/Warm shutdown/, 10_000);
      cold.worker.child.kill('SIGTERM');
      expect(await cold.worker.exited).toBe(1);
      // The pool child gets its SIGKILL before the worker exits; the kernel ends it a moment later.
      const child = Number(p.worker.split(':')[0]);
      await waitFor(() => !running(child), `the pool process ${child} to be gone`, 10_000);
      await waitFor(async () => (await target.ready(cold.queue)) === 1, 'the message back in its queue', 20_000);
    }, 150_000);
  });
}
