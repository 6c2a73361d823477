import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { CELERY_FIXTURES } from '../support/celery-vectors';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { RedisResultBackend } from 'nestjs-celery/internal/backends/redis/redis.backend';
import { Consumer } from 'nestjs-celery/internal/brokers/broker.interface';
import { ResultMeta } from 'nestjs-celery/internal/protocol/result-meta';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { runPythonJson, startPythonWorker, PythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { startNode } from '../support/node-process';
import {
  BROKER_DB,
  DeliveryLog,
  RESULT_DB,
  inspector,
  redisOptions,
  redisUrl,
  taskMessage,
} from '../support/redis-test.helpers';

const VECTOR = JSON.parse(readFileSync(join(CELERY_FIXTURES, 'redis-task-envelope.json'), 'utf8')) as {
  envelope: Record<string, unknown>;
};

/** Every key path of a JSON value's object shape (arrays are leaves). */
function shapeOf(v: unknown, path = ''): string[] {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return [path];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => shapeOf(x, path ? `${path}.${k}` : k));
}

/**
 * Our Redis transport against real Celery 5.2.6 on the same keys: DB 1 for the broker (no key
 * prefix, as Python uses none), DB 3 for results. The tests of this file run one after another,
 * so the `unacked` hash of DB 1 holds only what they put there.
 */
describe('Redis transport with Python Celery', () => {
  const BROKER = redisUrl(BROKER_DB);
  const BACKEND = redisUrl(RESULT_DB);
  let r: Redis;
  let rr: Redis;
  let queue: string;
  let broker: RedisBroker;
  let backend: RedisResultBackend;
  let worker: PythonWorker | null;
  let consumer: Consumer | null;
  const hostnames: string[] = [];
  const taskIds: string[] = [];
  const allQueues: string[] = [];

  beforeAll(() => {
    r = inspector(BROKER_DB);
    rr = inspector(RESULT_DB);
  });
  afterAll(async () => {
    // A later test's short visibility timeout may restore an entry a killed worker left in unacked,
    // re-creating an earlier test's queue list after its afterEach: delete every queue again.
    for (const q of allQueues) await r.del(q, `${q}\x06\x163`, `${q}\x06\x166`, `${q}\x06\x169`);
    // Python leaves its pidbox binding behind when killed; remove only ours.
    for (const key of await r.keys('_kombu.binding.*')) {
      for (const m of await r.smembers(key)) if (hostnames.some((h) => m.includes(h))) await r.srem(key, m);
    }
    // A SIGKILLed consumer leaves its reserve receipt (it expires by itself); remove it now.
    const receipts = await r.keys('_taskq.reserve.*');
    if (receipts.length) await r.del(...receipts);
    if (taskIds.length) await rr.del(...taskIds.map((id) => `celery-task-meta-${id}`));
    await r.quit();
    await rr.quit();
  });
  beforeEach(() => {
    queue = uniqueName('tq-interop');
    allQueues.push(queue);
    broker = new RedisBroker(BROKER, redisOptions());
    backend = new RedisResultBackend(BACKEND, redisOptions());
    worker = null;
    consumer = null;
  });
  afterEach(async () => {
    await worker?.kill();
    await consumer?.stop();
    await broker.close();
    await backend.close();
    await r.del(...[queue, `${queue}\x06\x163`, `${queue}\x06\x166`, `${queue}\x06\x169`, `_kombu.binding.${queue}`]);
  });

  const startWorker = async (env: Record<string, string> = {}) => {
    const hostname = `${uniqueName('py')}@test`;
    hostnames.push(hostname.split('@')[0]);
    worker = await startPythonWorker({ broker: BROKER, backend: BACKEND, queues: [queue], hostname, env });
    return worker;
  };

  const unackedEntryOf = async (taskId: string): Promise<{ tag: string; age: number } | null> => {
    const all = await r.hgetall('unacked');
    const tag = Object.keys(all).find((t) => all[t].includes(taskId));
    if (!tag) return null;
    return { tag, age: Date.now() / 1000 - Number(await r.zscore('unacked_index', tag)) };
  };

  it('publishes the envelope Celery publishes, in the right bucket, with the queue binding', async () => {
    const msg = taskMessage('py.add', [2, 3]);
    await broker.publish(queue, msg);
    const [raw] = await r.lrange(queue, 0, -1);
    const env = JSON.parse(raw);
    expect(shapeOf(env)).toEqual(expect.arrayContaining(shapeOf(VECTOR.envelope)));
    expect(env.properties.delivery_info).toEqual({ exchange: '', routing_key: queue });
    expect(env.properties.body_encoding).toBe('base64');
    expect(typeof env.properties.delivery_tag).toBe('string');
    expect(JSON.parse(Buffer.from(env.body, 'base64').toString())).toEqual([
      [2, 3],
      {},
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ]);
    expect(await r.sismember(`_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`)).toBe(1);

    await broker.publish(queue, taskMessage('py.add', [1, 1], { priority: 7 }));
    expect(await r.llen(`${queue}\x06\x166`)).toBe(1);
    await broker.publish(queue, taskMessage('py.add', [1, 1], { priority: 9 }));
    expect(await r.llen(`${queue}\x06\x169`)).toBe(1);
  });

  it('a Python worker runs our py.add and py.fail; our backend sees SUCCESS 5 and FAILURE ValueError', async () => {
    await startWorker();
    const add = taskMessage('py.add', [2, 3]);
    const fail = taskMessage('py.fail', ['boom']);
    const addId = String(add.headers.id);
    const failId = String(fail.headers.id);
    taskIds.push(addId, failId);
    const seen: ResultMeta[] = [];
    const off = await backend.subscribe(addId, (m) => seen.push(m));
    await broker.publish(queue, add);
    await broker.publish(queue, fail);
    await waitFor(() => seen.find((m) => m.status === 'SUCCESS'), 'SUCCESS via subscribe');
    off();
    expect(seen.at(-1)).toMatchObject({ status: 'SUCCESS', result: 5, task_id: addId });
    expect(await backend.get(addId)).toMatchObject({ status: 'SUCCESS', result: 5 });
    const failed = await waitFor(async () => {
      const m = await backend.get(failId);
      return m?.status === 'FAILURE' ? m : null;
    }, 'FAILURE');
    expect(failed!.result).toMatchObject({ exc_type: 'ValueError', exc_message: ['boom'] });
    expect(failed!.traceback).toContain('ValueError');
  });

  it("consumes a Python client's send_task message, parses it and acks it cleanly", async () => {
    const sent = await runPythonJson<{ id: string }>(
      `import json\nfrom celery_app import app\nr = app.send_task('py.add', args=(1, 2), kwargs={}, queue=${JSON.stringify(queue)})\nprint(json.dumps({"id": r.id}))`,
      { TQ_BROKER: BROKER },
    );
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 4 }, log.handler);
    await waitFor(() => log.all.length === 1, 'the Python message');
    const req = parseTaskMessage(log.all[0].message);
    expect(req).toMatchObject({ id: sent.id, task: 'py.add', args: [1, 2], kwargs: {} });
    expect(log.all[0].routingKey).toBe(queue);
    expect(await unackedEntryOf(sent.id)).not.toBeNull();
    await log.all[0].ack();
    expect(await unackedEntryOf(sent.id)).toBeNull();
    expect(await r.hlen('unacked')).toBe(0);
    expect(await r.zcard('unacked_index')).toBe(0);
  });

  it('a message held by a SIGKILLed Node consumer is restored and run by a Python worker', async () => {
    const msg = taskMessage('py.add', [20, 22]);
    const id = String(msg.headers.id);
    taskIds.push(id);
    await broker.publish(queue, msg);
    const child = startNode(join(__dirname, '..', 'support', 'hold-consumer.ts'), [BROKER, queue, '1']);
    await child.waitForOutput(new RegExp(`HELD ${id}`));
    await child.kill('SIGKILL');
    expect(await r.llen(queue)).toBe(0);
    const entry = await unackedEntryOf(id);
    expect(entry).not.toBeNull();
    // Python restores at worker start what is older than its visibility timeout (2 s).
    await waitFor(async () => ((await unackedEntryOf(id))?.age ?? 0) > 2.5, 'the unacked entry to pass 2 s', 10_000);
    await startWorker({ TQ_VISIBILITY_TIMEOUT: '2' });
    const meta = await waitFor(
      async () => {
        const m = await backend.get(id);
        return m?.status === 'SUCCESS' ? m : null;
      },
      'py.add to run',
      30_000,
    );
    expect(meta!.result).toBe(42);
    await waitFor(async () => (await unackedEntryOf(id)) === null, 'the entry to be acked');
  });

  it('a message held by a SIGKILLed Python worker is restored by our consumer', async () => {
    const msg = taskMessage('py.sleep', [60]);
    const id = String(msg.headers.id);
    const w = await startWorker();
    await broker.publish(queue, msg);
    await w.waitForLog(new RegExp(`py.sleep\\[${id}\\] received`));
    await w.kill();
    worker = null;
    await waitFor(async () => ((await unackedEntryOf(id))?.age ?? 0) > 1.5, 'the unacked entry to pass 1 s', 10_000);
    const b2 = new RedisBroker(BROKER, redisOptions({ redis: { visibilityTimeout: 1 } }));
    const log = new DeliveryLog();
    consumer = await b2.consume({ queues: [queue], prefetch: 1 }, log.handler);
    await waitFor(() => log.all.length === 1, 'the restored delivery');
    expect(log.all[0].message.headers.id).toBe(id);
    expect(log.all[0].redelivered).toBe(true);
    expect(parseTaskMessage(log.all[0].message).args).toEqual([60]);
    await log.all[0].ack();
    await consumer.stop();
    consumer = null;
    await b2.close();
    expect(await unackedEntryOf(id)).toBeNull();
  });
});
