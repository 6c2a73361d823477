import Redis from 'ioredis';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { Consumer } from 'nestjs-celery/internal/brokers/broker.interface';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { uniqueName, waitFor } from '../support/wait';
import {
  DeliveryLog,
  deletePrefix,
  inspector,
  redisOptions,
  redisUrl,
  taskMessage,
} from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';
import { CommandLog } from '../support/redis-monitor';

/** DB 4: Node-only, each test under its own key prefix, so `unacked` and the delayed sets are its own. */
const DB = suiteDb('redisDelayed');
const HOUR = 3600_000;

describe('Redis broker: messages held in Redis until due (countdown, eta, retries, deferred)', () => {
  let r: Redis;
  let prefix: string;
  let queue: string;
  const brokers: RedisBroker[] = [];
  const consumers: Consumer[] = [];

  const make = (redis: Record<string, unknown> = {}) => {
    const b = new RedisBroker(
      redisUrl(DB),
      redisOptions({ brokerUrl: redisUrl(DB), redis: { keyPrefix: prefix, ...redis } }),
    );
    brokers.push(b);
    return b;
  };
  const consume = async (b: RedisBroker, log: DeliveryLog, prefetch = 4) => {
    const c = await b.consume({ queues: [queue], prefetch }, log.handler);
    consumers.push(c);
    return c;
  };
  const delayedKey = () => `${prefix}_taskq.delayed.${queue}`;

  beforeAll(() => {
    r = inspector(DB);
  });
  afterAll(async () => {
    await r.quit();
  });
  beforeEach(() => {
    prefix = `${uniqueName('tqdelay')}:`;
    queue = uniqueName('q');
  });
  afterEach(async () => {
    for (const c of consumers.splice(0)) await c.stop();
    for (const b of brokers.splice(0)) await b.close();
    await deletePrefix(r, prefix);
  });

  it('keeps an eta hours away in the delayed set, never in unacked, across consumer restarts and visibility-timeout restores', async () => {
    const broker = make({ visibilityTimeout: 1, restoreInterval: 1 });
    const msg = taskMessage('t.later', [1]);
    const due = Date.now() + 3 * HOUR;
    await broker.publish(queue, msg, { deliverAt: new Date(due) });

    expect(await r.zrange(delayedKey(), '0', '-1', 'WITHSCORES')).toEqual([
      expect.stringContaining(String(msg.headers.id)),
      String(due),
    ]);
    expect(await broker.queueLength(queue)).toBe(0);
    expect(await broker.delayedLength(queue)).toBe(1);
    // The queue is declared as Celery declares it, even though nothing is on its list yet.
    expect(await r.sismember(`${prefix}_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`)).toBe(1);

    const log = new DeliveryLog();
    const unackedSeen = new Set<string>();
    const watchUnacked = async () => {
      for (const t of await r.hkeys(`${prefix}unacked`)) unackedSeen.add(t);
    };
    // A probe due after a visibility timeout and two restore passes (1 s each) have gone by: when it
    // arrives, a message held in unacked would have been restored and handed out already.
    const runProbe = async (b: RedisBroker, ms: number) => {
      const probe = taskMessage('t.probe', []);
      await b.publish(queue, probe, { deliverAt: new Date(Date.now() + ms) });
      await waitFor(
        async () => {
          await watchUnacked();
          return log.all.some((d) => d.message.headers.id === probe.headers.id);
        },
        'the probe',
        10_000,
      );
      await log.all.at(-1)!.ack();
    };
    const first = await consume(broker, log);
    await runProbe(broker, 2500);
    await first.stop();
    await broker.close();

    const restarted = make({ visibilityTimeout: 1, restoreInterval: 1 });
    await consume(restarted, log);
    await runProbe(restarted, 1500);
    expect(log.all.map((d) => d.message.headers.task)).toEqual(['t.probe', 't.probe']);
    expect([...unackedSeen].filter((t) => !log.all.some((d) => (d as unknown as { tag: string }).tag === t))).toEqual(
      [],
    );
    expect(await r.zrange(delayedKey(), '0', '-1', 'WITHSCORES')).toEqual([
      expect.stringContaining(String(msg.headers.id)),
      String(due),
    ]);
    expect(await r.hlen(`${prefix}unacked`)).toBe(0);
  });

  it('runs a message once when it falls due, and wakes an idle consumer within the block timeout', async () => {
    const broker = make();
    const commands = await CommandLog.start(DB);
    const log = new DeliveryLog();
    let deliveredAt = 0;
    consumers.push(
      await broker.consume({ queues: [queue], prefetch: 4 }, (d) => {
        deliveredAt ||= Date.now();
        log.handler(d);
      }),
    );
    // Let the consumer reach its idle blocking wait before the publish.
    await waitFor(
      async () => (await r.exists(`${prefix}_kombu.binding.${queue}`)) === 1,
      'the consumer to declare its queue',
    );
    const msg = taskMessage('t.soon', [3]);
    const due = Date.now() + 400;
    // Published by a broker that is gone at once: only the consumer can move it (no publisher-side move).
    const publisher = make();
    await publisher.publish(queue, msg, { deliverAt: new Date(due) });
    await publisher.close();
    expect(await broker.delayedLength(queue)).toBe(1);
    await waitFor(() => log.all.length === 1, 'the due message', 5000);
    const lateness = Date.now() - due;
    expect(lateness).toBeGreaterThanOrEqual(0);
    // Within the block timeout, counted in events rather than milliseconds: the idle consumer never
    // blocked longer than blockTimeout (1 s), and its first reserve after the due time took the message.
    await waitFor(() => commands.reserves(prefix).some((c) => c.nowMs >= due), 'the reserve after the due time');
    await commands.stop();
    expect(commands.named('blmove', prefix).map((c) => Number(c.args[5]) <= 1)).not.toContain(false);
    expect(commands.reserves(prefix).filter((c) => c.nowMs >= due && c.nowMs <= deliveredAt)).toHaveLength(1);
    expect(parseTaskMessage(log.all[0].message).args).toEqual([3]);
    expect(await broker.delayedLength(queue)).toBe(0);
    await log.all[0].ack();
    // A second consumer of the same queue does not get it again.
    const other = new DeliveryLog();
    await consume(make(), other);
    const probe = taskMessage('t.probe', []);
    await broker.publish(queue, probe);
    await waitFor(() => log.all.length + other.all.length === 2, 'the probe');
    expect([...log.ids(), ...other.ids()].filter((id) => id === msg.headers.id)).toHaveLength(1);
  });

  it('sleeps no longer than the next due time when it is sooner than the block timeout', async () => {
    const broker = make({ blockTimeout: 5 });
    const commands = await CommandLog.start(DB);
    const log = new DeliveryLog();
    const due = Date.now() + 2000;
    const msg = taskMessage('t.timed', []);
    const publisher = make();
    await publisher.publish(queue, msg, { deliverAt: new Date(due) });
    await publisher.close();
    await consume(broker, log);
    await waitFor(() => log.all.length === 1, 'the due message', 5000);
    await waitFor(() => commands.reserves(prefix).length >= 2, 'the second reserve');
    await commands.stop();
    // One wait between an empty reserve and the one that took the message, bounded by the due time.
    // Without that bound the consumer would block its whole 5 s block timeout.
    const [empty, taking] = commands.reserves(prefix);
    const waits = commands.all.slice(empty.index, taking.index).filter((c) => c.args[0] === 'blmove');
    expect(waits).toHaveLength(1);
    expect(Number(waits[0].args[5])).toBeLessThan(5);
    expect(Number(waits[0].args[5])).toBeLessThanOrEqual((due - empty.nowMs + 1) / 1000);
    expect(empty.nowMs).toBeLessThan(due);
    expect(taking.nowMs).toBeGreaterThanOrEqual(due);
  });

  it('a due message goes into its priority bucket, and a message due already is pushed at once', async () => {
    const broker = make();
    await broker.publish(queue, taskMessage('t.p9', [9], { priority: 9 }), { deliverAt: new Date(Date.now() + 50) });
    await broker.publish(queue, taskMessage('t.p0', [0], { priority: 0 }), { deliverAt: new Date(Date.now() + 50) });
    await broker.publish(queue, taskMessage('t.past', [-1]), { deliverAt: new Date(Date.now() - 1000) });
    expect(await r.llen(`${prefix}${queue}`)).toBe(1);
    expect(await broker.delayedLength(queue)).toBe(2);
    // Moved when due (here by the publishing broker; a consumer's reserve does the same), each into its bucket.
    await waitFor(async () => (await broker.delayedLength(queue)) === 0, 'both to be moved', 5000);
    expect([await r.llen(`${prefix}${queue}`), await r.llen(`${prefix}${queue}\x06\x169`)]).toEqual([2, 1]);
    const log = new DeliveryLog();
    await consume(broker, log, 10);
    await waitFor(() => log.all.length === 3, 'three deliveries');
    expect(log.all.map((d) => parseTaskMessage(d.message).args[0])).toEqual([-1, 0, 9]);
  });

  it('deferUntil moves a delivery from unacked to the delayed set in one step, then hands it out again when due', async () => {
    const broker = make();
    const msg = taskMessage('t.eta-from-python', [5]);
    await broker.publish(queue, msg);
    const log = new DeliveryLog();
    await consume(broker, log);
    await waitFor(() => log.all.length === 1, 'the delivery');
    expect(await r.hlen(`${prefix}unacked`)).toBe(1);
    const due = Date.now() + 700;
    await log.all[0].deferUntil!(new Date(due));
    expect(await r.hlen(`${prefix}unacked`)).toBe(0);
    expect(await r.zcard(`${prefix}unacked_index`)).toBe(0);
    const [member, score] = await r.zrange(delayedKey(), '0', '-1', 'WITHSCORES');
    expect(score).toBe(String(due));
    expect(JSON.parse(member).headers.id).toBe(msg.headers.id);
    // Settled: a late ack or a second defer does nothing.
    await log.all[0].ack();
    await log.all[0].deferUntil!(new Date(due + HOUR));
    expect(await r.zcard(delayedKey())).toBe(1);

    await waitFor(() => log.all.length === 2, 'the deferred message again', 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(due);
    expect(log.all[1].message.headers.id).toBe(msg.headers.id);
    expect(log.all[1].redelivered).toBe(false);
    expect(await r.zcard(delayedKey())).toBe(0);
    await log.all[1].ack();
  });

  it('deferUntil adds nothing when a restore already put the message back on its queue', async () => {
    const broker = make();
    const msg = taskMessage('t.restored', []);
    await broker.publish(queue, msg);
    const log = new DeliveryLog();
    const c = await consume(broker, log, 1);
    await waitFor(() => log.all.length === 1, 'the delivery');
    await c.stop();
    // What a visibility-timeout restore by any process does: the entry leaves unacked, the message goes back.
    const [tag] = await r.hkeys(`${prefix}unacked`);
    const [value] = JSON.parse((await r.hget(`${prefix}unacked`, tag))!) as [Record<string, unknown>];
    await r
      .multi()
      .hdel(`${prefix}unacked`, tag)
      .zrem(`${prefix}unacked_index`, tag)
      .rpush(`${prefix}${queue}`, JSON.stringify(value))
      .exec();
    await log.all[0].deferUntil!(new Date(Date.now() + HOUR));
    expect(await broker.delayedLength(queue)).toBe(0);
    expect(await broker.queueLength(queue)).toBe(1);
  });

  it('the publishing broker moves what it scheduled when due, for a queue with no consumer of ours (Python workers only)', async () => {
    const broker = make();
    const due = Date.now() + 300;
    await broker.publish(queue, taskMessage('t.for-python', [], { priority: 6 }), { deliverAt: new Date(due) });
    expect(await broker.queueLength(queue)).toBe(0);
    await waitFor(
      async () => (await r.llen(`${prefix}${queue}\x06\x166`)) === 1,
      'the publisher to move it into bucket 6',
      5000,
    );
    expect(Date.now()).toBeGreaterThanOrEqual(due);
    expect(await broker.delayedLength(queue)).toBe(0);
    // moveDue() is there for tools and tests: nothing else is due.
    expect(await broker.moveDue(queue)).toBe(0);
  });

  it('purge removes the delayed messages too; queueLength counts only ready ones', async () => {
    const broker = make();
    await broker.publish(queue, taskMessage('t.a', []));
    await broker.publish(queue, taskMessage('t.b', []), { deliverAt: new Date(Date.now() + HOUR) });
    await broker.publish(queue, taskMessage('t.c', [], { priority: 9 }), { deliverAt: new Date(Date.now() + HOUR) });
    expect(await broker.queueLength(queue)).toBe(1);
    expect(await broker.delayedLength(queue)).toBe(2);
    expect(await broker.purge(queue)).toBe(3);
    expect(await broker.delayedLength(queue)).toBe(0);
    expect(await r.exists(delayedKey())).toBe(0);
  });
});
