import Redis from 'ioredis';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { Consumer, deadLetterQueueOf } from 'nestjs-celery/internal/brokers/broker.interface';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { messageOf, parseEnvelope } from 'nestjs-celery/internal/brokers/kombu/kombu-envelope';
import { uniqueName, waitFor } from '../support/wait';
import { CommandLog } from '../support/redis-monitor';
import {
  DeliveryLog,
  NODE_DB,
  deletePrefix,
  inspector,
  redisOptions,
  redisUrl,
  taskMessage,
} from '../support/redis-test.helpers';

/** Node-only consumption on DB 2, each test under its own key prefix (so its unacked hash is its own). */
describe('Redis broker: consuming', () => {
  let r: Redis;
  let prefix: string;
  let queue: string;
  let broker: RedisBroker;
  let consumer: Consumer | null;

  const make = (redis: Record<string, unknown> = {}) =>
    new RedisBroker(
      redisUrl(NODE_DB),
      redisOptions({ brokerUrl: redisUrl(NODE_DB), redis: { keyPrefix: prefix, ...redis } }),
    );

  beforeAll(() => {
    r = inspector(NODE_DB);
  });
  afterAll(async () => {
    await r.quit();
  });
  beforeEach(() => {
    prefix = `${uniqueName('tqtest')}:`;
    queue = uniqueName('q');
    broker = make();
    consumer = null;
  });
  afterEach(async () => {
    await consumer?.stop();
    await broker.close();
    await deletePrefix(r, prefix);
  });

  it('hands out at most prefetch deliveries, taken in one batch, and more only as they are settled', async () => {
    for (let i = 0; i < 25; i++) await broker.publish(queue, taskMessage('t.n', [i]));
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 10 }, log.handler);
    await waitFor(() => log.all.length === 10, '10 deliveries');
    expect(log.bursts[0]).toBe(10);
    expect(await r.hlen(`${prefix}unacked`)).toBe(10);
    expect(await r.zcard(`${prefix}unacked_index`)).toBe(10);
    expect(await broker.queueLength(queue)).toBe(15);
    // FIFO: published order
    expect(log.all.map((d) => parseTaskMessage(d.message).args[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(log.all.length).toBe(10);

    await Promise.all(log.all.slice(0, 4).map((d) => d.ack()));
    await waitFor(() => log.all.length === 14, '4 more deliveries');
    expect(log.all.length).toBe(14);
    await Promise.all(log.all.slice(4).map((d) => d.ack()));
    await waitFor(() => log.all.length === 24, '10 more deliveries');
    expect(log.bursts.at(-1)).toBe(10);
    await Promise.all(log.all.slice(14).map((d) => d.ack()));
    await waitFor(() => log.all.length === 25, 'the last delivery');
    await log.all[24].ack();
    await waitFor(async () => (await r.hlen(`${prefix}unacked`)) === 0, 'unacked empty');
    expect(await r.zcard(`${prefix}unacked_index`)).toBe(0);
  });

  it('publishMany puts 25,000 messages in order, in chunks, in kombu layout and priority buckets', async () => {
    const messages = Array.from({ length: 25_000 }, (_, i) =>
      taskMessage('t.many', [i], i === 7 ? { priority: 3 } : {}),
    );
    await broker.publishMany(queue, messages);
    expect(await r.llen(`${prefix}${queue}`)).toBe(24_999);
    expect(await r.llen(`${prefix}${queue}\x06\x163`)).toBe(1);
    expect(await r.sismember(`${prefix}_kombu.binding.${queue}`, `${queue}\x06\x16\x06\x16${queue}`)).toBe(1);
    // RPOP side first: FIFO across the 10,000-message chunks
    const oldest = await r.lrange(`${prefix}${queue}`, -2, -1);
    const newest = await r.lindex(`${prefix}${queue}`, 0);
    const argOf = (raw: string) => parseTaskMessage(messageOf(parseEnvelope(raw))).args[0];
    expect(oldest.map(argOf)).toEqual([1, 0]);
    expect(argOf(newest!)).toBe(24_999);
  });

  it('serves priority 0 first (Redis priority is inverted), FIFO inside a bucket', async () => {
    for (const p of [9, 0, 5, 3]) await broker.publish(queue, taskMessage('t.p', [p], { priority: p }));
    expect(await r.llen(`${prefix}${queue}\x06\x169`)).toBe(1);
    expect(await r.llen(`${prefix}${queue}\x06\x163`)).toBe(2);
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 10 }, log.handler);
    await waitFor(() => log.all.length === 4, '4 deliveries');
    expect(log.all.map((d) => parseTaskMessage(d.message).args[0])).toEqual([0, 5, 3, 9]);
    await Promise.all(log.all.map((d) => d.ack()));
  });

  it('wakes a blocked consumer as soon as a message is published', async () => {
    // A block timeout far beyond the wait for the delivery below: only the wake-up can bring it in time.
    await broker.close();
    broker = make({ blockTimeout: 3600 });
    const commands = await CommandLog.start(NODE_DB);
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 4 }, log.handler);
    await waitFor(
      () => commands.named('blmove', `${prefix}${queue}`).length === 1,
      'the consumer to block on its queue',
    );
    const other = make();
    await other.publish(queue, taskMessage('t.w', [1]));
    await waitFor(() => log.all.length === 1, 'the delivery');
    await waitFor(() => commands.reserves(prefix).length === 2, 'the reserve after the wake-up');
    await commands.stop();
    // In order: an empty reserve, the blocking wait, the push, then the reserve that took it; the
    // wait was never repeated (it did not time out and poll again).
    const [emptyReserve, takingReserve] = commands.reserves(prefix);
    const wait = commands.indexOf((c) => c.args[0] === 'blmove' && c.args[1] === `${prefix}${queue}`);
    const push = commands.indexOf((c) => c.args[0] === 'lpush' && c.args[1] === `${prefix}${queue}`);
    expect(emptyReserve.index).toBeLessThan(wait);
    expect(wait).toBeLessThan(push);
    expect(push).toBeLessThan(takingReserve.index);
    expect(commands.all.slice(wait + 1, takingReserve.index).filter((c) => c.args[0] === 'blmove')).toEqual([]);
    expect(log.all.length).toBe(1);
    await log.all[0].ack();
    await other.close();
  });

  it('dead-letters a message with its reason, and a raw item that is not an envelope becomes a delivery with transportError', async () => {
    await broker.publish(queue, taskMessage('t.dl', [1]));
    await r.lpush(`${prefix}${queue}`, 'this is not json');
    await r.lpush(`${prefix}${queue}`, '[1, 2]');
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 10 }, log.handler);
    await waitFor(() => log.all.length === 3, '3 deliveries');
    const [task, notJson, array] = log.all;
    expect(task.transportError).toBeUndefined();
    expect(notJson.transportError).toBeInstanceOf(Error);
    expect(notJson.message.body.toString()).toBe('this is not json');
    expect(array.transportError).toBeInstanceOf(Error);
    expect(await r.hlen(`${prefix}unacked`)).toBe(3);
    await task.deadLetter('handler said no');
    await notJson.deadLetter(notJson.transportError!.message);
    await array.deadLetter('array');
    expect(await r.hlen(`${prefix}unacked`)).toBe(0);
    const dead = await broker.readDeadLetters(queue);
    expect(dead.map((d) => d.reason)).toEqual(['array', notJson.transportError!.message, 'handler said no']);
    expect(dead[2].message.headers.id).toBe(task.message.headers.id);
    expect(dead[1].message.body.toString()).toBe('this is not json');
    expect(dead[0].queue).toBe(queue);
    expect(Date.parse(dead[0].at)).toBeGreaterThan(0);
    expect(await r.llen(`${prefix}${deadLetterQueueOf(queue)}`)).toBe(3);
    expect(await broker.readDeadLetters(queue, 1)).toHaveLength(1);
  });

  it('registers two copies of one envelope (same delivery_tag) under two tags, so neither overwrites the other', async () => {
    await broker.publish(queue, taskMessage('t.dup', [1]));
    const [raw] = await r.lrange(`${prefix}${queue}`, 0, 0);
    await r.lpush(`${prefix}${queue}`, raw);
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 5 }, log.handler);
    await waitFor(() => log.all.length === 2, '2 deliveries');
    expect(await r.hlen(`${prefix}unacked`)).toBe(2);
    await Promise.all(log.all.map((d) => d.ack()));
    await waitFor(async () => (await r.hlen(`${prefix}unacked`)) === 0, 'unacked empty');
  });

  it('settles a delivery once: a second ack or dead-letter does nothing', async () => {
    await broker.publish(queue, taskMessage('t.once', [1]));
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 1 }, log.handler);
    await waitFor(() => log.all.length === 1, 'delivery');
    await log.all[0].ack();
    await log.all[0].deadLetter('late');
    expect(await broker.readDeadLetters(queue)).toEqual([]);
  });

  it('reject(requeue) puts it at the back of the line, marked redelivered; reject(false) drops it', async () => {
    await broker.publish(queue, taskMessage('t.r', ['a']));
    await broker.publish(queue, taskMessage('t.r', ['b']));
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 1 }, log.handler);
    await waitFor(() => log.all.length === 1, 'a');
    await log.all[0].reject(true);
    await waitFor(() => log.all.length === 2, 'b');
    expect(parseTaskMessage(log.all[1].message).args).toEqual(['b']);
    await log.all[1].ack();
    await waitFor(() => log.all.length === 3, 'a again');
    expect(parseTaskMessage(log.all[2].message).args).toEqual(['a']);
    expect(log.all[2].redelivered).toBe(true);
    expect(log.all[2].message.headers.redelivered).toBe(true);
    await log.all[2].reject(false);
    await waitFor(async () => (await r.hlen(`${prefix}unacked`)) === 0, 'unacked empty');
    expect(await broker.queueLength(queue)).toBe(0);
  });

  it('close() flushes acks and puts unsettled deliveries back at the front, redelivered; it is idempotent', async () => {
    for (let i = 0; i < 5; i++) await broker.publish(queue, taskMessage('t.c', [i]));
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue], prefetch: 3 }, log.handler);
    await waitFor(() => log.all.length === 3, '3 deliveries');
    void log.all[0].ack();
    await Promise.all([broker.close(), broker.close()]);
    await broker.close();
    consumer = null;
    expect(await r.hlen(`${prefix}unacked`)).toBe(0);
    // RPOP order: 1 and 2 come back first, then 3, 4.
    const items = await r.lrange(`${prefix}${queue}`, 0, -1);
    const order = items.reverse().map((raw) => JSON.parse(raw));
    expect(order.map((e) => e.headers.id)).toEqual(
      [log.all[1], log.all[2]].map((d) => d.message.headers.id).concat(order.slice(2).map((e) => e.headers.id)),
    );
    expect(
      order.slice(0, 2).every((e) => e.headers.redelivered === true && e.properties.delivery_info.redelivered === true),
    ).toBe(true);
    expect(order).toHaveLength(4);
    await expect(broker.publish(queue, taskMessage('t.c', [9]))).rejects.toThrow(/closed/);
  });

  it('restores a message whose visibility timeout passed, and consumes several queues', async () => {
    const q2 = uniqueName('q2');
    await broker.publish(q2, taskMessage('t.v', [1]));
    const log = new DeliveryLog();
    consumer = await broker.consume({ queues: [queue, q2], prefetch: 5 }, log.handler);
    await waitFor(() => log.all.length === 1, 'first delivery');
    expect(log.all[0].queue).toBe(q2);
    await consumer.stop();
    consumer = null;
    // A second broker with a 1 s visibility timeout finds it unacked and old enough.
    await waitFor(
      async () =>
        Date.now() / 1000 - Number(await r.zscore(`${prefix}unacked_index`, (await r.hkeys(`${prefix}unacked`))[0])) >
        1.2,
      'the entry to age',
    );
    const b2 = make({ visibilityTimeout: 1 });
    const log2 = new DeliveryLog();
    const c2 = await b2.consume({ queues: [queue, q2], prefetch: 5 }, log2.handler);
    await waitFor(() => log2.all.length === 1, 'restored delivery');
    expect(log2.all[0].redelivered).toBe(true);
    expect(log2.all[0].message.headers.id).toBe(log.all[0].message.headers.id);
    await log2.all[0].ack();
    await c2.stop();
    await b2.close();
    expect(await r.hlen(`${prefix}unacked`)).toBe(0);
  });

  it('writes the queue binding when consuming, and purge() empties every bucket', async () => {
    const log = new DeliveryLog();
    await broker.publish(queue, taskMessage('t.x', [1], { priority: 9 }));
    await broker.publish(queue, taskMessage('t.x', [1]));
    expect(await broker.purge(queue)).toBe(2);
    expect(await broker.queueLength(queue)).toBe(0);
    const q3 = uniqueName('q3');
    consumer = await broker.consume({ queues: [q3], prefetch: 1 }, log.handler);
    expect(await r.sismember(`${prefix}_kombu.binding.${q3}`, `${q3}\x06\x16\x06\x16${q3}`)).toBe(1);
  });
});
