import Redis from 'ioredis';
import { RedisBroker } from 'nestjs-celery/internal/brokers/redis/redis.broker';
import { ExchangeSpec, ListenerQueueSpec } from 'nestjs-celery/internal/brokers/broker.interface';
import { TaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import {
  PIDBOX_EXCHANGE,
  REPLY_EXCHANGE,
  mailboxQueue,
  replyQueue,
} from 'nestjs-celery/internal/protocol/control-message';
import { EVENT_EXCHANGE, buildEventMessage } from 'nestjs-celery/internal/protocol/event-message';
import { uniqueName, waitFor } from '../support/wait';
import { deletePrefix, inspector, redisOptions, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/** DB 4, Node only; every test under its own key prefix, which kombu puts in front of channels too. */
const DB = suiteDb('redisDelayed');
const SEP = '\x06\x16';

const note = (text: string): TaskMessage => buildEventMessage('n@test', { text } as Record<string, unknown>);
const textOf = (m: TaskMessage) => (JSON.parse(m.body.toString()) as { text: string }).text;

describe('Redis broker: exchanges as kombu emulates them (Pub/Sub fanout, bound lists for direct)', () => {
  let r: Redis;
  let sub: Redis;
  let prefix: string;
  let broker: RedisBroker;
  let other: RedisBroker;

  const make = () =>
    new RedisBroker(redisUrl(DB), redisOptions({ brokerUrl: redisUrl(DB), redis: { keyPrefix: prefix } }));

  beforeAll(() => {
    r = inspector(DB);
    sub = inspector(DB);
  });
  afterAll(async () => {
    await r.quit();
    sub.disconnect();
  });
  beforeEach(() => {
    prefix = `${uniqueName('tqex')}:`;
    broker = make();
    other = make();
  });
  afterEach(async () => {
    await broker.close();
    await other.close();
    await deletePrefix(r, prefix);
  });

  it('publishes fanout and topic messages on /<db>.<exchange>[/<key>] after the key prefix, as a kombu envelope', async () => {
    const got: Array<[string, string]> = [];
    sub.on('pmessage', (_p: string, ch: string, payload: string) => got.push([ch, payload]));
    await sub.psubscribe(`${prefix}/${DB}.*`);
    await broker.publishToExchange(EVENT_EXCHANGE, 'worker.heartbeat', note('hb'));
    await broker.publishToExchange(PIDBOX_EXCHANGE, '', note('ping'));
    await waitFor(() => got.length === 2, 'two messages');
    expect(got.map(([ch]) => ch)).toEqual([
      `${prefix}/${DB}.celeryev/worker.heartbeat`,
      `${prefix}/${DB}.celery.pidbox`,
    ]);
    const env = JSON.parse(got[0][1]);
    expect(env).toMatchObject({
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      headers: { hostname: 'n@test' },
      properties: {
        delivery_info: { exchange: 'celeryev', routing_key: 'worker.heartbeat' },
        body_encoding: 'base64',
        delivery_mode: 1,
      },
    });
    expect(JSON.parse(Buffer.from(env.body, 'base64').toString())).toEqual({ text: 'hb' });
    await sub.punsubscribe();
  });

  it('listens with kombu patterns (# made *), strips the channel prefix, and registers then removes the binding', async () => {
    const seen: Record<string, Array<[string, string]>> = { all: [], worker: [], box: [] };
    const q = (name: string, bindingKey: string): ListenerQueueSpec => ({ name, bindingKey, autoDelete: true });
    const stopAll = await broker.listen!(EVENT_EXCHANGE, q('celeryev.all', '#'), (m, rk) =>
      seen.all.push([rk, textOf(m)]),
    );
    const stopWorker = await broker.listen!(EVENT_EXCHANGE, q('celeryev.gossip', 'worker.#'), (m, rk) =>
      seen.worker.push([rk, textOf(m)]),
    );
    const stopBox = await broker.listen!(PIDBOX_EXCHANGE, mailboxQueue('node-x@test'), (m, rk) =>
      seen.box.push([rk, textOf(m)]),
    );
    expect(await r.smembers(`${prefix}_kombu.binding.celeryev`)).toEqual(
      expect.arrayContaining([`#${SEP}${SEP}celeryev.all`, `worker.#${SEP}${SEP}celeryev.gossip`]),
    );
    expect(await r.smembers(`${prefix}_kombu.binding.celery.pidbox`)).toEqual([
      `${SEP}${SEP}node-x@test.celery.pidbox`,
    ]);
    const channels = (await r.call('PUBSUB', 'NUMPAT')) as number;
    expect(channels).toBeGreaterThanOrEqual(4); // #→*, worker.#→worker.*, pidbox and pidbox/*

    await other.publishToExchange(EVENT_EXCHANGE, 'task.multi', note('t'));
    await other.publishToExchange(EVENT_EXCHANGE, 'worker.online', note('w'));
    await other.publishToExchange(PIDBOX_EXCHANGE, '', note('p'));
    await waitFor(
      () => seen.all.length === 2 && seen.worker.length === 1 && seen.box.length === 1,
      'every listener to get its messages',
    );
    expect(seen).toEqual({
      all: [
        ['task.multi', 't'],
        ['worker.online', 'w'],
      ],
      worker: [['worker.online', 'w']],
      box: [['', 'p']],
    });

    await Promise.all([stopAll(), stopWorker(), stopBox()]);
    expect(await r.exists(`${prefix}_kombu.binding.celeryev`, `${prefix}_kombu.binding.celery.pidbox`)).toBe(0);
    await other.publishToExchange(EVENT_EXCHANGE, 'worker.online', note('late'));
    await other.publishToExchange(PIDBOX_EXCHANGE, '', note('late'));
    // A listener that still runs proves the late messages went out; the stopped ones got nothing.
    const after: string[] = [];
    const stop = await broker.listen!(PIDBOX_EXCHANGE, mailboxQueue('node-y@test'), (m) => after.push(textOf(m)));
    await other.publishToExchange(PIDBOX_EXCHANGE, '', note('marker'));
    await waitFor(() => after.includes('marker'), 'the marker');
    expect(seen.all.length + seen.worker.length + seen.box.length).toBe(4);
    await stop();
  });

  it('shares one Pub/Sub connection and one reply reader among all listeners of a broker', async () => {
    const name = (role: string) => `taskq:${role}:${process.pid}`;
    const count = async (role: string) =>
      ((await r.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => l.includes(`name=${name(role)} `)).length;
    const before = { ps: await count('psubscribe'), rp: await count('replies') };
    const stops = [];
    for (let i = 0; i < 5; i++)
      stops.push(await broker.listen!(PIDBOX_EXCHANGE, mailboxQueue(`n${i}@test`), () => undefined));
    for (let i = 0; i < 5; i++)
      stops.push(await broker.listen!(REPLY_EXCHANGE, replyQueue(`oid-${i}`), () => undefined));
    expect(await count('psubscribe')).toBe(before.ps + 1);
    expect(await count('replies')).toBe(before.rp + 1);
    await Promise.all(stops.map((s) => s()));
  });

  it('direct exchange: LPUSHes to the queues bound with the routing key, BRPOPs them, and drops what nobody is bound for', async () => {
    const oid = uniqueName('oid');
    const replies: Array<[string, string]> = [];
    const stop = await broker.listen!(REPLY_EXCHANGE, replyQueue(oid), (m, rk) => replies.push([rk, textOf(m)]));
    expect(await r.smembers(`${prefix}_kombu.binding.reply.celery.pidbox`)).toEqual([
      `${oid}${SEP}${SEP}${oid}.reply.celery.pidbox`,
    ]);
    // A reply right after listen() resolves is read (the reader is woken to name the new list).
    await other.publishToExchange(REPLY_EXCHANGE, oid, note('r1'));
    await other.publishToExchange(REPLY_EXCHANGE, oid, note('r2'));
    await waitFor(() => replies.length === 2, 'two replies', 5000);
    expect(replies).toEqual([
      [oid, 'r1'],
      [oid, 'r2'],
    ]);

    // Another oid: not for us.
    await other.publishToExchange(REPLY_EXCHANGE, 'someone-else', note('x'));
    expect(await r.exists(`${prefix}someone-else.reply.celery.pidbox`)).toBe(0);
    await stop();
    expect(await r.exists(`${prefix}_kombu.binding.reply.celery.pidbox`, `${prefix}${oid}.reply.celery.pidbox`)).toBe(
      0,
    );
    await other.publishToExchange(REPLY_EXCHANGE, oid, note('late'));
    expect(await r.exists(`${prefix}${oid}.reply.celery.pidbox`)).toBe(0);
    expect(replies).toHaveLength(2);
  });

  it('a direct listener reads a list Python-style pushed items to (kombu envelope LPUSHed by another client)', async () => {
    const exchange: ExchangeSpec = { name: 'x.direct', type: 'direct', durable: false };
    const got: string[] = [];
    const stop = await broker.listen!(exchange, { name: 'x.q', bindingKey: 'k', autoDelete: true }, (m) =>
      got.push(textOf(m)),
    );
    const env = {
      body: Buffer.from(JSON.stringify({ text: 'from-python' })).toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': 'application/json',
      headers: {},
      properties: {
        delivery_info: { exchange: 'x.direct', routing_key: 'k' },
        body_encoding: 'base64',
        delivery_tag: 'abc',
      },
    };
    await r.lpush(`${prefix}x.q`, JSON.stringify(env));
    await waitFor(() => got.length === 1, 'the item');
    expect(got).toEqual(['from-python']);
    await stop();
  });

  it('close() removes every binding its listeners made', async () => {
    await broker.listen!(PIDBOX_EXCHANGE, mailboxQueue('closing@test'), () => undefined);
    await broker.listen!(REPLY_EXCHANGE, replyQueue('closing-oid'), () => undefined);
    expect(await r.exists(`${prefix}_kombu.binding.celery.pidbox`, `${prefix}_kombu.binding.reply.celery.pidbox`)).toBe(
      2,
    );
    await broker.close();
    expect(await r.exists(`${prefix}_kombu.binding.celery.pidbox`, `${prefix}_kombu.binding.reply.celery.pidbox`)).toBe(
      0,
    );
  });
});
