import { ConfigurationError } from 'nestjs-celery/internal/errors';
import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker, pyTool, taskMessage } from '../support/amqp-fixtures';

describe('AMQP topology (Celery 5.2 compatible)', () => {
  let vh: TestVhost;
  const brokers: AmqpBroker[] = [];
  const broker = (...args: Parameters<typeof newBroker>) => {
    const b = newBroker(...args);
    brokers.push(b);
    return b;
  };

  beforeAll(async () => {
    vh = await createTestVhost('topology');
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await vh?.delete();
  });

  async function entities(queue: string) {
    const [q] = (await vh.list('queues', ['name', 'durable', 'auto_delete', 'exclusive', 'arguments'])).filter(
      (r) => r[0] === queue,
    );
    const [x] = (
      await vh.list('exchanges', ['name', 'type', 'durable', 'auto_delete', 'internal', 'arguments'])
    ).filter((r) => r[0] === queue);
    const bindings = (await vh.list('bindings', ['source_name', 'destination_name', 'routing_key'])).filter(
      (r) => r[1] === queue,
    );
    return { q, x, bindings };
  }

  it('declares exchange, queue and binding exactly as a Python Celery client does', async () => {
    const ours = uniqueName('ours');
    const theirs = uniqueName('theirs');
    await broker(vh.url).publish(ours, taskMessage('py.add', [1, 2]));
    await pyTool('declare', vh.url, { TQ_QUEUE: theirs });
    const a = await entities(ours);
    const b = await entities(theirs);
    expect(a.q.slice(1)).toEqual(b.q.slice(1));
    expect(a.x.slice(1)).toEqual(b.x.slice(1));
    expect(a.q.slice(1)).toEqual(['true', 'false', 'false', '[]']);
    expect(a.x.slice(1)).toEqual(['direct', 'true', 'false', 'false', '[]']);
    // Default exchange binding + the named exchange, both with key = queue name.
    expect(a.bindings.map((r) => [r[0], r[2]]).sort()).toEqual([
      ['', ours],
      [ours, ours],
    ]);
    expect(b.bindings.map((r) => [r[0], r[2]]).sort()).toEqual([
      ['', theirs],
      [theirs, theirs],
    ]);
  });

  it('accepts a queue Python declared first, and Python accepts ours (no 406 either way)', async () => {
    const q1 = uniqueName('py-first');
    await pyTool('declare', vh.url, { TQ_QUEUE: q1 });
    await broker(vh.url).publish(q1, taskMessage('py.add', [1, 2]));
    await expect(
      broker(vh.url)
        .consume({ queues: [q1], prefetch: 1 }, () => undefined)
        .then((c) => c.stop()),
    ).resolves.toBeUndefined();

    const q2 = uniqueName('ours-first');
    await broker(vh.url).publish(q2, taskMessage('py.add', [1, 2]));
    await expect(pyTool('declare', vh.url, { TQ_QUEUE: q2 })).resolves.toMatchObject({ declared: q2, exchange: q2 });
  });

  it('declares x-max-priority the way Celery does, in both orders', async () => {
    const q1 = uniqueName('prio-py-first');
    await pyTool('declare', vh.url, { TQ_QUEUE: q1, TQ_MAX_PRIORITY: '10' });
    await broker(vh.url, {}, { maxPriority: 10 }).publish(q1, taskMessage('py.add', [1, 2]));

    const q2 = uniqueName('prio-ours-first');
    await broker(vh.url, {}, { maxPriority: 10 }).publish(q2, taskMessage('py.add', [1, 2]));
    await pyTool('declare', vh.url, { TQ_QUEUE: q2, TQ_MAX_PRIORITY: '10' });
    const { q } = await entities(q2);
    expect(q[4]).toContain('x-max-priority');
  });

  it('serves higher priorities first on a priority queue', async () => {
    const queue = uniqueName('prio-order');
    const b = broker(vh.url, {}, { maxPriority: 9 });
    for (const p of [1, 9, 5]) await b.publish(queue, taskMessage('py.add', [p, 0], {}, { priority: p }));
    const seen: number[] = [];
    const c = await b.consume({ queues: [queue], prefetch: 10 }, (d) => {
      seen.push(d.message.properties.priority as number);
      void d.ack();
    });
    await waitFor(() => seen.length === 3, 'three deliveries');
    await c.stop();
    expect(seen).toEqual([9, 5, 1]);
  });

  it('explains a mismatch with an existing queue as a ConfigurationError instead of a bare 406', async () => {
    const queue = uniqueName('mismatch');
    await pyTool('declare', vh.url, { TQ_QUEUE: queue, TQ_MAX_PRIORITY: '10' });
    const err = await broker(vh.url)
      .publish(queue, taskMessage('py.add', [1, 2]))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toMatch(/PRECONDITION_FAILED.*maxPriority/s);
    const err2 = await broker(vh.url)
      .consume({ queues: [queue], prefetch: 1 }, () => undefined)
      .catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(ConfigurationError);
  });

  it('declares quorum queues when asked, and refuses quorum together with maxPriority', async () => {
    const queue = uniqueName('quorum');
    await broker(vh.url, {}, { queueType: 'quorum' }).publish(queue, taskMessage('py.add', [1, 2]));
    const [row] = (await vh.list('queues', ['name', 'type', 'durable'])).filter((r) => r[0] === queue);
    expect(row.slice(1)).toEqual(['quorum', 'true']);
    expect(() => newBroker(vh.url, {}, { queueType: 'quorum', maxPriority: 5 })).toThrow(ConfigurationError);
  });
});
