import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { Delivery } from 'nestjs-celery/internal/brokers/broker.interface';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker, taskMessage } from '../support/amqp-fixtures';

/** Broker-held delays in Celery 5.5's plugin-free topology (celery_delayed_0…27, celery_delayed_delivery). */
describe('AMQP broker-held delays', () => {
  let vh: TestVhost;
  const brokers: AmqpBroker[] = [];
  const broker = () => {
    const b = newBroker(vh.url, { publishTimeout: 20_000 });
    brokers.push(b);
    return b;
  };

  beforeAll(async () => {
    vh = await createTestVhost('delayed');
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await vh?.delete();
  });

  /** Messages (ready + unacked) in each queue whose name matches. */
  async function counts(match: RegExp): Promise<Record<string, { ready: number; unacked: number }>> {
    const rows = await vh.list('queues', ['name', 'messages_ready', 'messages_unacknowledged']);
    return Object.fromEntries(
      rows.filter((r) => match.test(r[0])).map((r) => [r[0], { ready: Number(r[1]), unacked: Number(r[2]) }]),
    );
  }
  /**
   * Messages waiting in the 28 delay queues, by queue.declare passive (exact); `rabbitmqctl list_queues`
   * shows quorum queue counts only from the last stats emission, seconds late.
   */
  async function delayed(b: AmqpBroker): Promise<number[]> {
    return Promise.all(Array.from({ length: 28 }, (_, level) => b.queueLength(`celery_delayed_${level}`)));
  }
  const delayedTotal = async (b: AmqpBroker) => (await delayed(b)).reduce((n, c) => n + c, 0);

  it('declares the topology as Celery 5.5 does: 28 topic exchanges and quorum queues, and the delivery exchange', async () => {
    const b = broker();
    const queue = uniqueName('declare');
    await b.publish(queue, taskMessage('py.add', [1, 1]), { deliverAt: new Date(Date.now() + 3_000) });
    const queues = await vh.list('queues', ['name', 'type', 'durable', 'arguments']);
    const levels = queues.filter((q) => /^celery_delayed_\d+$/.test(q[0]));
    expect(levels).toHaveLength(28);
    const l5 = levels.find((q) => q[0] === 'celery_delayed_5')!;
    expect(l5[1]).toBe('quorum');
    expect(l5[2]).toBe('true');
    expect(l5[3]).toContain('x-message-ttl');
    expect(l5[3]).toContain('32000');
    expect(l5[3]).toContain('celery_delayed_4');
    expect(l5[3]).toContain('at-least-once');
    const exchanges = await vh.list('exchanges', ['name', 'type', 'durable']);
    expect(
      exchanges
        .filter((e) => /^celery_delayed_(\d+|delivery)$/.test(e[0]))
        .every((e) => e[1] === 'topic' && e[2] === 'true'),
    ).toBe(true);
    expect(exchanges.filter((e) => /^celery_delayed_(\d+|delivery)$/.test(e[0]))).toHaveLength(29);
    const bindings = await vh.list('bindings', ['source_name', 'destination_name', 'routing_key']);
    expect(bindings).toContainEqual(['celery_delayed_delivery', queue, `${'*.'.repeat(28)}${queue}`]);
    await b.purge(queue);
  });

  it('holds a countdown message in the delay queues, not in the task queue, and delivers it once when due', async () => {
    const b = broker();
    const queue = uniqueName('countdown');
    const msg = taskMessage('py.add', [2, 3]);
    // Due one second later: when it comes first, ours came when due and not merely "some time after".
    const later = taskMessage('py.add', [3, 4]);
    const got: Delivery[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 4 }, (d) => got.push(d));
    const sentAt = Date.now();
    await b.publish(queue, msg, { deliverAt: new Date(sentAt + 9_000) });
    await b.publish(queue, later, { deliverAt: new Date(sentAt + 10_000) });
    // 9 s = bits 3 and 0: waits 8 s in celery_delayed_3, then 1 s in celery_delayed_0 (10 s: 8 s, then 2 s in celery_delayed_1).
    await waitFor(async () => (await delayed(b))[3] === 2, 'both messages in celery_delayed_3', 5_000);
    expect((await counts(new RegExp(`^${queue}$`)))[queue]).toEqual({ ready: 0, unacked: 0 });
    const d = await waitFor(() => got[0], 'the delayed delivery', 15_000);
    const took = Date.now() - sentAt;
    expect(took).toBeGreaterThanOrEqual(8_900);
    await waitFor(() => got[1], 'the delivery due one second later', 15_000);
    expect(got.map((g) => g.message.headers.id)).toEqual([msg.headers.id, later.headers.id]);
    await got[1].ack();
    expect(parseTaskMessage(d.message).id).toBe(msg.headers.id);
    // Reported as published: default exchange, routing key = queue; RabbitMQ's x-death bookkeeping taken off.
    expect([d.exchange, d.routingKey]).toEqual(['', queue]);
    expect(Object.keys(d.message.headers).filter((k) => k.startsWith('x-'))).toEqual([]);
    await d.ack();
    expect(await delayedTotal(b)).toBe(0);
    await consumer.stop();
    expect(got).toHaveLength(2);
  });

  it('deferUntil moves a delivery into the delay topology and acks it: nothing stays unacked in the consumer', async () => {
    const b = broker();
    const queue = uniqueName('defer');
    const msg = taskMessage('py.add', [4, 5], {}, { expires: 3600 });
    await b.publish(queue, msg);
    const got: Delivery[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 1 }, (d) => got.push(d));
    const first = await waitFor(() => got[0], 'the first delivery');
    const at = new Date(Date.now() + 6_500);
    await first.deferUntil!(at);
    // Acked: RabbitMQ holds nothing unacked for the consumer, the message waits in the delay queues.
    expect((await counts(new RegExp(`^${queue}$`)))[queue]).toEqual({ ready: 0, unacked: 0 });
    expect(await delayedTotal(b)).toBe(1);
    const second = await waitFor(() => got[1], 'the deferred delivery', 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(at.getTime() - 1_000);
    expect(second.message.body.equals(msg.body)).toBe(true);
    expect(second.message.headers.id).toBe(msg.headers.id);
    await second.ack();
    await consumer.stop();
    expect(got).toHaveLength(2);
  });

  it('keeps delayed messages across a lost connection and delivers each once', async () => {
    const b = broker();
    const queue = uniqueName('delay-loss');
    const n = 50;
    const due = new Date(Date.now() + 4_000);
    await Promise.all(
      Array.from({ length: n }, (_, i) => b.publish(queue, taskMessage('py.add', [i, 0]), { deliverAt: due })),
    );
    expect(await delayedTotal(b)).toBe(n);
    await vh.closeConnections();
    const ids: string[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 100 }, (d) => {
      ids.push(d.message.headers.id as string);
      void d.ack();
    });
    await waitFor(() => ids.length >= n, `${n} delayed deliveries`, 20_000);
    await waitFor(async () => (await delayedTotal(b)) === 0, 'the delay queues to be empty');
    await consumer.stop();
    expect(new Set(ids).size).toBe(n);
    expect(ids).toHaveLength(n);
  });

  it('returns messages with the same delay in the order they were published', async () => {
    const b = broker();
    const queue = uniqueName('delay-order');
    // Declared first, so that every message below gets the same whole-second delay (2 s).
    await b.publish(uniqueName('warm-up'), taskMessage('py.add', [0, 0]), { deliverAt: new Date(Date.now() + 1_000) });
    const due = new Date(Date.now() + 2_700);
    const sent: string[] = [];
    for (let i = 0; i < 20; i++) {
      const m = taskMessage('py.add', [i, 0]);
      sent.push(m.headers.id as string);
      await b.publish(queue, m, { deliverAt: new Date(due.getTime()) });
    }
    const ids: string[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 100 }, (d) => {
      ids.push(d.message.headers.id as string);
      void d.ack();
    });
    await waitFor(() => ids.length === 20, '20 deliveries', 15_000);
    await consumer.stop();
    expect(ids).toEqual(sent);
  });
});
