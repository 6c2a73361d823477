import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import {
  PIDBOX_EXCHANGE,
  REPLY_EXCHANGE,
  mailboxQueue,
  replyQueue,
} from 'nestjs-celery/internal/protocol/control-message';
import { EVENT_EXCHANGE, buildEventMessage } from 'nestjs-celery/internal/protocol/event-message';
import { TaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker } from '../support/amqp-fixtures';

/** publishToExchange / listen: Celery's pidbox and event exchanges on RabbitMQ. */
describe('AMQP exchanges (remote control and events)', () => {
  let vh: TestVhost;
  let broker: AmqpBroker;

  beforeAll(async () => {
    vh = await createTestVhost('exchanges');
    broker = newBroker(vh.url);
  });
  afterAll(async () => {
    await broker?.close();
    await vh?.delete();
  });

  const message = (text: string, mode = 1): TaskMessage => ({
    ...buildEventMessage('n@h', { text }),
    properties: { delivery_mode: mode, priority: 0 },
  });
  const textOf = (m: TaskMessage) => (JSON.parse(m.body.toString()) as { text: string }).text;

  it('declares exchanges and listener queues with the flags and arguments Celery uses', async () => {
    const host = uniqueName('w') + '@h';
    const oid = uniqueName('oid');
    const evq = {
      name: `celeryev.${uniqueName('r')}`,
      bindingKey: '#',
      autoDelete: true,
      expiresMs: 60_000,
      messageTtlMs: 5_000,
    };
    const stops = [
      await broker.listen(PIDBOX_EXCHANGE, mailboxQueue(host), () => undefined),
      await broker.listen(REPLY_EXCHANGE, replyQueue(oid), () => undefined),
      await broker.listen(EVENT_EXCHANGE, evq, () => undefined),
    ];
    const exchanges = await vh.list('exchanges', ['name', 'type', 'durable', 'auto_delete']);
    expect(exchanges).toContainEqual(['celery.pidbox', 'fanout', 'false', 'false']);
    expect(exchanges).toContainEqual(['reply.celery.pidbox', 'direct', 'false', 'false']);
    expect(exchanges).toContainEqual(['celeryev', 'topic', 'true', 'false']);
    const queues = await vh.list('queues', ['name', 'durable', 'auto_delete', 'arguments', 'exclusive']);
    const row = (name: string) => queues.find((q) => q[0] === name);
    // Exclusive and transient, as Celery 5.7 declares them: RabbitMQ 4.x refuses transient non-exclusive queues.
    expect(row(`${host}.celery.pidbox`)?.slice(0, 3)).toEqual([`${host}.celery.pidbox`, 'false', 'true']);
    expect(row(`${host}.celery.pidbox`)?.[3]).toMatch(/x-expires.*10000/);
    expect(row(`${host}.celery.pidbox`)?.[3]).toMatch(/x-message-ttl.*300000/);
    expect(row(`${host}.celery.pidbox`)?.[4]).toBe('true');
    expect(row(`${oid}.reply.celery.pidbox`)?.slice(1, 3)).toEqual(['false', 'true']);
    expect(row(`${oid}.reply.celery.pidbox`)?.[4]).toBe('true');
    expect(row(evq.name)?.[3]).toMatch(/x-message-ttl.*5000/);
    expect(row(evq.name)?.[4]).toBe('true');
    const bindings = await vh.list('bindings', ['source_name', 'destination_name', 'routing_key']);
    expect(bindings).toContainEqual(['reply.celery.pidbox', `${oid}.reply.celery.pidbox`, oid]);
    expect(bindings).toContainEqual(['celeryev', evq.name, '#']);
    for (const stop of stops) await stop();
    const after = (await vh.list('queues', ['name'])).map((q) => q[0]);
    expect(after).not.toContain(`${host}.celery.pidbox`);
    expect(after).not.toContain(evq.name);
  });

  it("declares Celery 5.2's non-exclusive queues, or durable ones, when the options say so", async () => {
    const other = newBroker(
      vh.url,
      {},
      { controlQueueExclusive: false, eventQueueExclusive: false, eventQueueDurable: true },
    );
    try {
      const host = uniqueName('w52') + '@h';
      const evq = { name: `celeryev.${uniqueName('r')}`, bindingKey: '#', role: 'event' as const, autoDelete: true };
      const stops = [
        await other.listen(PIDBOX_EXCHANGE, mailboxQueue(host), () => undefined),
        await other.listen(EVENT_EXCHANGE, evq, () => undefined),
      ];
      const queues = await vh.list('queues', ['name', 'durable', 'auto_delete', 'exclusive']);
      expect(queues).toContainEqual([`${host}.celery.pidbox`, 'false', 'true', 'false']);
      expect(queues).toContainEqual([evq.name, 'true', 'false', 'false']);
      for (const stop of stops) await stop();
    } finally {
      await other.close();
    }
  });

  it('a second worker with the same node name retries, then is refused with a message naming the node', async () => {
    const host = uniqueName('dup') + '@h';
    const second = newBroker(vh.url);
    const stop = await broker.listen(PIDBOX_EXCHANGE, mailboxQueue(host), () => undefined);
    try {
      await expect(second.listen(PIDBOX_EXCHANGE, mailboxQueue(host), () => undefined)).rejects.toThrow(
        new RegExp(`Another worker named "${host}" is already listening.*unique node name`),
      );
    } finally {
      await stop();
      await second.close();
    }
  });

  it('takes over the node name once the previous connection is gone (a restart while the old one closes)', async () => {
    const host = uniqueName('restart') + '@h';
    const first = newBroker(vh.url);
    const second = newBroker(vh.url);
    try {
      await first.listen(PIDBOX_EXCHANGE, mailboxQueue(host), () => undefined);
      const seen: string[] = [];
      const listening = second.listen(PIDBOX_EXCHANGE, mailboxQueue(host), (m) => seen.push(textOf(m)));
      await first.close(); // while the second is retrying on RESOURCE_LOCKED
      const stop = await listening;
      await broker.publishToExchange(PIDBOX_EXCHANGE, '', message('to the new one'));
      await waitFor(() => seen.includes('to the new one'), 'the control message on the second listener');
      await stop();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('routes by exchange type: fanout to all, direct by key, topic by pattern; the handler gets the routing key', async () => {
    const seen: Array<[string, string, string]> = [];
    const on = (who: string) => (m: TaskMessage, rk: string) => seen.push([who, textOf(m), rk]);
    const stops = [
      await broker.listen(PIDBOX_EXCHANGE, mailboxQueue('a@h'), on('a')),
      await broker.listen(PIDBOX_EXCHANGE, mailboxQueue('b@h'), on('b')),
      await broker.listen(REPLY_EXCHANGE, replyQueue('oid-1'), on('r1')),
      await broker.listen(
        EVENT_EXCHANGE,
        { name: uniqueName('celeryev'), bindingKey: 'worker.#', autoDelete: true },
        on('gossip'),
      ),
    ];
    await broker.publishToExchange(PIDBOX_EXCHANGE, '', message('broadcast', 2));
    await broker.publishToExchange(REPLY_EXCHANGE, 'oid-1', message('reply'));
    await broker.publishToExchange(REPLY_EXCHANGE, 'oid-2', message('not for r1'));
    await broker.publishToExchange(EVENT_EXCHANGE, 'worker.heartbeat', message('hb'));
    await broker.publishToExchange(EVENT_EXCHANGE, 'task.succeeded', message('task'));
    await waitFor(() => seen.length >= 4, 'four messages');
    for (const stop of stops) await stop();
    expect(seen.sort()).toEqual([
      ['a', 'broadcast', ''],
      ['b', 'broadcast', ''],
      ['gossip', 'hb', 'worker.heartbeat'],
      ['r1', 'reply', 'oid-1'],
    ]);
  });

  it('publishes to an exchange nobody listens to without waiting (unrouted messages are dropped)', async () => {
    const gone = uniqueName('gone');
    // Resolved, not held until someone binds (nor failed after publishTimeout): nobody listens yet.
    await expect(broker.publishToExchange(PIDBOX_EXCHANGE, '', message('nobody'))).resolves.toBeUndefined();
    await expect(broker.publishToExchange(REPLY_EXCHANGE, gone, message('nobody'))).resolves.toBeUndefined();
    // Dropped: a listener that binds afterwards gets only what is published after it.
    const seen: string[] = [];
    const stop = await broker.listen(REPLY_EXCHANGE, replyQueue(gone), (m) => seen.push(textOf(m)));
    await broker.publishToExchange(REPLY_EXCHANGE, gone, message('later'));
    await waitFor(() => seen.includes('later'), 'the message published after the listener');
    await stop();
    expect(seen).toEqual(['later']);
  });

  it('listens again after the connection is lost', async () => {
    const seen: string[] = [];
    const stop = await broker.listen(PIDBOX_EXCHANGE, mailboxQueue(uniqueName('c') + '@h'), (m) =>
      seen.push(textOf(m)),
    );
    await vh.closeConnections();
    // Published until one arrives: the listener is back once it sees one.
    await waitFor(
      async () => {
        await broker.publishToExchange(PIDBOX_EXCHANGE, '', message('after'));
        return seen.includes('after');
      },
      'a broadcast after the reconnect',
      20_000,
    );
    await stop();
    // What arrived: the broadcasts sent after the loss, and nothing else.
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(new Set(seen)).toEqual(new Set(['after']));
  });
});
