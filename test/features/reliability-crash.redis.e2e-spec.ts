import { join } from 'node:path';
import Redis from 'ioredis';
import { RunningClient, startClient } from '../support/nest-apps';
import { uniqueName, waitFor } from '../support/wait';
import { NodeChild, startNode } from '../support/node-process';
import { deletePrefix, inspector, queueKeys, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * Crash safety of the Redis transport with a real worker process: 1500 tasks are queued, the
 * worker (test/support/crash-worker.main.ts, concurrency 20, visibility timeout 5 s, restore
 * every 1 s, restore mutex 10 s: a worker killed while it restores holds kombu's mutex until it
 * expires, 300 s by default) is SIGKILLed at random moments, six times (during boot, just after ready, mid-run,
 * while it restores the last victim's messages), and started again each time. In the end
 * every task must have a SUCCESS result and nothing may be left in the queue or in `unacked`:
 * there is no instant at which a SIGKILL loses a message. Tasks may run more than once (at-least-
 * once delivery); the count of such duplicate runs is printed.
 *
 * Redis DB 9, every key under a unique `redis.keyPrefix` (so the 5 s visibility timeout of this
 * worker never touches another suite's unacked messages, and one SCAN+DEL cleans up).
 */
describe('Redis: a worker SIGKILLed at random moments loses no task', () => {
  const DB = suiteDb('interopWorkerProcess');
  const URL = redisUrl(DB);
  const prefix = `${uniqueName('crash')}:`;
  const queue = 'crash-q';
  const N = 1500;
  const KILLS = 6;
  const WORKER = join(__dirname, '..', 'support', 'crash-worker.main.ts');
  let r: Redis;
  let producer: RunningClient | undefined;
  const children: NodeChild[] = [];

  const spawnWorker = (i: number): NodeChild => {
    const child = startNode(WORKER, [], {
      CRASH_BROKER_URL: URL,
      CRASH_QUEUE: queue,
      CRASH_PREFIX: prefix,
      CRASH_CONCURRENCY: '20',
      CRASH_VISIBILITY_TIMEOUT: '5',
      CRASH_RESTORE_INTERVAL: '1',
      CRASH_HOSTNAME: `crash${i}@interop`,
    });
    children.push(child);
    return child;
  };
  const doneCount = () => r.hlen(`${prefix}crash.done`);
  const random = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

  beforeAll(async () => {
    r = inspector(DB);
    producer = await startClient({ brokerUrl: URL, resultBackend: URL, redis: { keyPrefix: prefix } });
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await producer?.close();
    await deletePrefix(r, prefix);
    await r.quit();
  });

  it(`runs all ${N} tasks to SUCCESS across ${KILLS} SIGKILLs, with nothing left queued or unacked`, async () => {
    const ids: string[] = [];
    for (let i = 0; i < N; i += 100) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(100, N - i) }, (_, j) =>
          producer!.client.sendTask<number>('crash.record', [i + j, random(10, 100)], {}, { queue }),
        ),
      );
      ids.push(...batch.map((b) => b.id));
    }
    expect(await r.llen(`${prefix}${queue}`)).toBe(N);

    const killLog: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawnWorker(k);
      const t0 = Date.now();
      if (k === 0) {
        // Any instant of the boot: before it connects, while it restores, or as it reserves its first batch.
        await new Promise((res) => setTimeout(res, random(0, 4000)));
      } else if (k === 1) {
        // Right after it says it is ready (its first reserve is in flight or just done).
        await child.waitForOutput(/ ready\./, 120_000);
        await new Promise((res) => setTimeout(res, random(0, 1500)));
      } else if (k === 3) {
        // While it puts back the messages the last killed worker held (their 5 s visibility timeout passed).
        await child.waitForOutput(/Restored \d+ unacknowledged message/, 120_000);
        await new Promise((res) => setTimeout(res, random(0, 300)));
      } else {
        // Mid-run: once it has completed a random number of further tasks.
        const target = Math.min(N - 50, (await doneCount()) + random(40, 220));
        await waitFor(async () => (await doneCount()) >= target || !child.running, `${target} tasks done`, 180_000);
        await new Promise((res) => setImmediate(res));
      }
      expect(child.running).toBe(true);
      await child.kill('SIGKILL');
      const [done, queued, unacked] = await Promise.all([
        doneCount(),
        r.llen(`${prefix}${queue}`),
        r.hlen(`${prefix}unacked`),
      ]);
      killLog.push(
        `kill ${k + 1} after ${Date.now() - t0} ms: ${done} distinct done, ${queued} queued, ${unacked} unacked`,
      );
    }

    // The last start: it must finish everything (messages held by killed workers come back after 5 s).
    const last = spawnWorker(KILLS);
    const metaKeys = ids.map((id) => `${prefix}celery-task-meta-${id}`);
    const notSuccess = async (): Promise<string[]> => {
      const bad: string[] = [];
      for (let i = 0; i < metaKeys.length; i += 400) {
        const values = await r.mget(...metaKeys.slice(i, i + 400));
        values.forEach((v, j) => {
          if (!v || (JSON.parse(v) as { status: string }).status !== 'SUCCESS') bad.push(ids[i + j]);
        });
      }
      return bad;
    };
    await waitFor(async () => (await notSuccess()).length === 0, `all ${N} results to be SUCCESS`, 300_000).catch(
      async (err: Error) => {
        throw new Error(
          `${err.message}\nstill not SUCCESS: ${(await notSuccess()).length}\n${killLog.join('\n')}\nlast worker output (tail):\n${last.output().slice(-3000)}`,
        );
      },
    );

    // Quiet: no message in any bucket of the queue nor in unacked (read in one transaction).
    const state = async () => {
      const res = (await r
        .multi()
        .llen(queueKeys(queue, prefix)[0])
        .llen(queueKeys(queue, prefix)[1])
        .llen(queueKeys(queue, prefix)[2])
        .llen(queueKeys(queue, prefix)[3])
        .hlen(`${prefix}unacked`)
        .zcard(`${prefix}unacked_index`)
        .llen(`${prefix}${queue}.dead-letter`)
        .exec())!.map(([, v]) => Number(v));
      return { queued: res[0] + res[1] + res[2] + res[3], unacked: res[4], unackedIndex: res[5], deadLetters: res[6] };
    };
    await waitFor(
      async () => {
        const s = await state();
        return s.queued === 0 && s.unacked === 0 && s.unackedIndex === 0;
      },
      'the queue and unacked to be empty',
      120_000,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await state())}`);
    });
    expect(await state()).toEqual({ queued: 0, unacked: 0, unackedIndex: 0, deadLetters: 0 });

    // Every result is the task's own number, and every task body completed at least once.
    const values = await r.mget(...metaKeys);
    values.forEach((v, i) => expect(JSON.parse(v!)).toMatchObject({ status: 'SUCCESS', result: i, task_id: ids[i] }));
    const done = await r.hgetall(`${prefix}crash.done`);
    const started = await r.hgetall(`${prefix}crash.started`);
    expect(Object.keys(done)).toHaveLength(N);
    const totalDone = Object.values(done).reduce((a, v) => a + Number(v), 0);
    const totalStarted = Object.values(started).reduce((a, v) => a + Number(v), 0);
    const twice = Object.values(done).filter((v) => Number(v) > 1).length;

    // A warm stop of the last worker: it exits by itself.
    const exit = await last.kill('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });

    console.log(
      [
        `crash safety: ${N} tasks, ${KILLS} SIGKILLs, all SUCCESS, nothing queued or unacked.`,
        ...killLog,
        `runs completed: ${totalDone} for ${N} tasks -> ${totalDone - N} duplicate completed runs (${twice} tasks completed more than once)`,
        `runs started: ${totalStarted} (${totalStarted - N} beyond one per task, including runs cut by a kill)`,
      ].join('\n'),
    );
  }, 900_000);
});
