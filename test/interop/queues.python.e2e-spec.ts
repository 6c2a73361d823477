import { join } from 'node:path';
import Redis from 'ioredis';
import { RunningClient, startClient } from '../support/nest-apps';
import { PythonWorker, startPythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { NodeChild, ROOT, startNode } from '../support/node-process';
import {
  deleteResults,
  inspector,
  queueKeys,
  redisUrl,
  removeBindingsMentioning,
  unackedFor,
  waiting,
} from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * A mixed fleet on one Redis DB (8): the example Nest worker (apps/worker/src/main.ts, run as its
 * own process, as in production) consumes queue A, a real Python Celery worker consumes queue B.
 * Each must take only its own queue's messages; nothing may stay behind in either list.
 */
describe('Redis: a Nest worker and a Python worker on separate queues of one DB', () => {
  const DB = suiteDb('interopNestToPython');
  const URL = redisUrl(DB);
  const queueA = uniqueName('interop-nodeA');
  const queueB = uniqueName('interop-pyB');
  const pyHost = `${uniqueName('pyB')}@interop`;
  const nodeHost = `${uniqueName('nodeA')}@interop`;
  const ids: string[] = [];
  let r: Redis;
  let node: NodeChild | undefined;
  let python: PythonWorker | undefined;
  let producer: RunningClient | undefined;

  beforeAll(async () => {
    r = inspector(DB);
    node = startNode(join(ROOT, 'apps', 'worker', 'src', 'main.ts'), [], {
      TASKQUEUE_BROKER_URL: URL,
      TASKQUEUE_RESULT_BACKEND: URL,
      TASKQUEUE_QUEUES: queueA,
      TASKQUEUE_CONCURRENCY: '4',
      TASKQUEUE_HOSTNAME: nodeHost,
    });
    [python] = await Promise.all([
      startPythonWorker({ broker: URL, backend: URL, queues: [queueB], hostname: pyHost, readyTimeoutMs: 60_000 }),
      node.waitForOutput(/ ready\./, 120_000),
    ]);
    producer = await startClient({ brokerUrl: URL, resultBackend: URL });
  });
  afterAll(async () => {
    await producer?.close();
    await Promise.all([node?.kill('SIGTERM'), python?.stop()]);
    await deleteResults(r, ids);
    await r.del(...queueKeys(queueA), ...queueKeys(queueB));
    await removeBindingsMentioning(r, [pyHost, nodeHost, queueA, queueB]);
    await r.quit();
  });

  let toNode: Array<{ id: string }> = [];

  it('runs 20 tasks on each side, each worker only its own queue, and leaves both lists empty', async () => {
    const a = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer!.client.sendTask<number>('tasks.add', [i, i], {}, { queue: queueA }),
      ),
    );
    const b = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        producer!.client.sendTask<number>('py.add', [i, 100], {}, { queue: queueB }),
      ),
    );
    toNode = a;
    ids.push(...a.map((t) => t.id), ...b.map((t) => t.id));

    expect(await Promise.all(a.map((t) => t.get({ timeout: 30_000 })))).toEqual(
      Array.from({ length: 20 }, (_, i) => 2 * i),
    );
    expect(await Promise.all(b.map((t) => t.get({ timeout: 30_000 })))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 100),
    );

    // The Python worker's log: exactly its own 20 tasks, none of queue A, no unregistered name.
    for (const t of b) await python!.waitForLog(new RegExp(`Task py\\.add\\[${t.id}\\] succeeded`), 20_000);
    const pyLog = python!.logs();
    for (const t of a) expect(pyLog).not.toContain(t.id);
    expect(pyLog.match(/Task py\.add\[[^\]]+\] received/g)).toHaveLength(20);
    expect(pyLog).not.toMatch(/unregistered|NotRegistered/i);
    // The Nest worker never mentions a task of queue B, nor dead-letters anything.
    const nodeLog = node!.output();
    for (const t of b) expect(nodeLog).not.toContain(t.id);
    expect(nodeLog).not.toMatch(/unregistered|NotRegistered|dead-letter/i);

    await waitFor(
      async () =>
        (await waiting(r, queueA)) + (await waiting(r, queueB)) === 0 &&
        (await unackedFor(r, queueA)).length + (await unackedFor(r, queueB)).length === 0,
      'both queues and their unacked entries to be empty',
      20_000,
    );
    expect(await r.llen(`${queueA}.dead-letter`)).toBe(0);
  });

  it('the Nest worker (apps/worker, default Nest logger) logs "received" and "succeeded" for each of its tasks, as `celery worker -l info`', async () => {
    expect(toNode).toHaveLength(20);
    for (const t of toNode)
      await node!.waitForOutput(new RegExp(`Task tasks\\.add\\[${t.id}\\] succeeded in [0-9.]+s: \\d+`), 20_000);
    const nodeLog = node!.output();
    expect(nodeLog.match(/Task tasks\.add\[[^\]]+\] received/g)).toHaveLength(20);
  });

  it('a warm stop of the Nest worker (SIGTERM) exits 0', async () => {
    expect(await node!.kill('SIGTERM')).toEqual({ code: 0, signal: null });
  });
});
