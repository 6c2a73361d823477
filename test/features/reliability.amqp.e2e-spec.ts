import { Logger } from '@nestjs/common';
import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { Delivery } from 'nestjs-celery/internal/brokers/broker.interface';
import { BrokerUnavailableError } from 'nestjs-celery/internal/errors';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, amqpUrl, createTestVhost } from '../support/rabbitmq';
import { TcpProxy } from '../support/tcp-proxy';
import { newBroker, taskMessage } from '../support/amqp-fixtures';

describe('AMQP broker reliability', () => {
  let vh: TestVhost;
  const brokers: AmqpBroker[] = [];
  const broker = (...args: Parameters<typeof newBroker>) => {
    const b = newBroker(...args);
    brokers.push(b);
    return b;
  };

  beforeAll(async () => {
    vh = await createTestVhost('reliability');
  });
  afterEach(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await vh?.delete();
  });

  /** Ready + unacked messages of a queue, as RabbitMQ counts them. */
  async function messagesIn(queue: string): Promise<{ ready: number; unacked: number }> {
    const row = (await vh.list('queues', ['name', 'messages_ready', 'messages_unacknowledged'])).find(
      (r) => r[0] === queue,
    );
    return { ready: Number(row?.[1] ?? 0), unacked: Number(row?.[2] ?? 0) };
  }

  it('resolves publish only once RabbitMQ confirmed it, with many confirms in flight at once', async () => {
    const b = broker(vh.url);
    const queue = uniqueName('confirms');
    const n = 2000;
    await b.publish(queue, taskMessage('py.add', [0, 0]));

    let t = Date.now();
    for (let i = 0; i < 200; i++) await b.publish(queue, taskMessage('py.add', [i, 0]));
    const oneByOne = (Date.now() - t) / 200;

    t = Date.now();
    await Promise.all(Array.from({ length: n }, (_, i) => b.publish(queue, taskMessage('py.add', [i, 1]))));
    const streamed = (Date.now() - t) / n;
    // Confirmed means enqueued: the count is right the moment the promises resolve.
    expect(await b.queueLength(queue)).toBe(1 + 200 + n);
    console.log(
      `confirmed publish: ${oneByOne.toFixed(3)} ms/msg awaiting each, ${streamed.toFixed(3)} ms/msg streamed (${n} in flight)`,
    );
    expect(streamed).toBeLessThan(oneByOne);
    expect(await b.purge(queue)).toBe(1 + 200 + n);
  });

  it('hands out at most `prefetch` unsettled deliveries', async () => {
    const b = broker(vh.url);
    const queue = uniqueName('prefetch');
    for (let i = 0; i < 20; i++) await b.publish(queue, taskMessage('py.add', [i, 0]));
    const held: Delivery[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 5 }, (d) => held.push(d));
    await waitFor(async () => held.length === 5 && (await b.queueLength(queue)) === 15, '5 held, 15 waiting');
    expect(await messagesIn(queue)).toEqual({ ready: 15, unacked: 5 });
    await held[0].ack();
    await waitFor(async () => held.length === 6 && (await b.queueLength(queue)) === 14, 'one more after one ack');
    expect(held.length).toBe(6);
    for (const d of held.slice(1)) await d.ack();
    await waitFor(() => held.length === 11, 'the next five');
    await consumer.stop();
  });

  it('consumes every message of a 1200-message run although all connections are closed twice in the middle', async () => {
    const queue = uniqueName('conn-loss');
    const total = 1200;
    const producer = broker(vh.url, { publishTimeout: 15_000 });
    const consumerBroker = broker(vh.url);
    const publish = (from: number, to: number) =>
      Promise.all(
        Array.from({ length: to - from }, (_, k) => producer.publish(queue, taskMessage('py.add', [from + k, 0]))),
      );
    // Half waits in the queue (so the consumer always holds a full prefetch), half is published during the run.
    await publish(0, total / 2);
    const seen = new Map<number, number>();
    let handled = 0;
    let redelivered = 0;
    // While a loss is under way the handlers hold their deliveries, so the loss surely hits
    // deliveries in flight (rabbitmqctl takes a second to act; the run would be over by then).
    let gate: Promise<unknown> = Promise.resolve();
    const consumer = await consumerBroker.consume({ queues: [queue], prefetch: 50 }, (d) => {
      void (async () => {
        const i = JSON.parse(d.message.body.toString())[0][0] as number;
        await new Promise((r) => setTimeout(r, 1)); // a small async step before the ack
        await gate;
        seen.set(i, (seen.get(i) ?? 0) + 1);
        handled++;
        if (d.redelivered) redelivered++;
        await d.ack(); // must not throw, even on a channel that died meanwhile
      })();
    });
    const published = publish(total / 2, total);

    await waitFor(() => handled >= 300, '300 handled', 30_000);
    await (gate = vh.closeConnections());
    await waitFor(() => handled >= 800, '800 handled', 30_000);
    await (gate = vh.closeConnections());

    await published; // every publish confirmed (retried over the outage when needed)
    await waitFor(() => seen.size === total, `all ${total} distinct messages`, 60_000);
    await waitFor(
      async () => {
        const m = await messagesIn(queue);
        return m.ready === 0 && m.unacked === 0;
      },
      'the queue to be empty with nothing unacked',
      30_000,
    );
    const duplicates = [...seen.values()].filter((c) => c > 1).length;
    console.log(
      `connection loss: ${total} distinct consumed and acked; ${handled - total} extra deliveries, ${redelivered} flagged redelivered, ${duplicates} ids seen more than once`,
    );
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
    // The losses hit deliveries in flight: RabbitMQ gave those back and they came again.
    expect(redelivered).toBeGreaterThan(0);
    await consumer.stop();
  }, 120_000);

  it('settling a delivery whose channel died does not throw, and RabbitMQ redelivers it', async () => {
    const b = broker(vh.url);
    const queue = uniqueName('dead-channel');
    await b.publish(queue, taskMessage('py.add', [7, 0]));
    const got: Delivery[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got[0], 'the first delivery');
    await vh.closeConnections();
    await waitFor(() => got[1], 'the redelivery after reconnecting', 20_000);
    await expect(got[0].ack()).resolves.toBeUndefined();
    await expect(got[0].reject(true)).resolves.toBeUndefined();
    expect(got[1].redelivered).toBe(true);
    await got[1].ack();
    await waitFor(async () => (await messagesIn(queue)).unacked === 0, 'the ack');
    await consumer.stop();
  });

  it('retries a publish during an outage and succeeds once RabbitMQ is back within publishTimeout', async () => {
    const proxy = new TcpProxy();
    await proxy.start();
    try {
      const b = broker(amqpUrl(vh.name, proxy.port), { publishTimeout: 10_000 });
      const queue = uniqueName('outage');
      await b.publish(queue, taskMessage('py.add', [1, 0]));
      const warn = jest.spyOn(Logger.prototype, 'warn');
      await proxy.cut();
      // What a user sees when the broker notices: its warning that it lost the connection and reconnects.
      const lost = () =>
        warn.mock.calls
          .map((c) => String(c[0]))
          .filter((m) => m.includes(`:${proxy.port}/`) && /Lost the connection to .*Reconnecting/.test(m));
      const [notice] = await waitFor(() => (lost().length ? lost() : null), 'the broker to notice the cut').finally(
        () => warn.mockRestore(),
      );
      expect(notice).not.toContain('guest:guest');
      const pending = b.publish(queue, taskMessage('py.add', [2, 0]));
      await proxy.restore();
      await pending;
      expect(await b.queueLength(queue)).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('fails a publish with BrokerUnavailableError after publishTimeout when RabbitMQ stays away', async () => {
    const proxy = new TcpProxy();
    await proxy.start();
    try {
      const b = broker(amqpUrl(vh.name, proxy.port), { publishTimeout: 1500 });
      const patient = broker(amqpUrl(vh.name, proxy.port), { publishTimeout: 30_000 });
      const queue = uniqueName('outage-long');
      await b.publish(queue, taskMessage('py.add', [1, 0]));
      await patient.connect();
      await proxy.cut();
      let patientSettled = false;
      const pending = patient.publish(queue, taskMessage('py.add', [3, 0])).finally(() => (patientSettled = true));
      const t = Date.now();
      const err = await b.publish(queue, taskMessage('py.add', [2, 0])).catch((e: unknown) => e);
      const took = Date.now() - t;
      expect(err).toBeInstanceOf(BrokerUnavailableError);
      expect(took).toBeGreaterThanOrEqual(1400);
      // Given up on its own bound: a publish with a 30 s bound, sent before it in the same outage, still waits.
      expect(patientSettled).toBe(false);
      await proxy.restore();
      await pending;
      expect(await patient.queueLength(queue)).toBe(2);
    } finally {
      await proxy.stop();
    }
  });

  it('rejects connect() with BrokerUnavailableError when nothing listens, never showing the password', async () => {
    const b = broker('amqp://guest:secret@127.0.0.1:1/', { publishTimeout: 1000 });
    const err = await b.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnavailableError);
    expect((err as Error).message).not.toContain('secret');
    expect(b.describe()).toBe('amqp://guest:***@127.0.0.1:1/');
  });

  it('stop() cancels the consumer but keeps handed-out deliveries settleable', async () => {
    const b = broker(vh.url);
    const queue = uniqueName('stop');
    for (let i = 0; i < 3; i++) await b.publish(queue, taskMessage('py.add', [i, 0]));
    const got: Delivery[] = [];
    const consumer = await b.consume({ queues: [queue], prefetch: 1 }, (d) => got.push(d));
    await waitFor(() => got[0], 'a delivery');
    await consumer.stop();
    await got[0].ack();
    await waitFor(async () => (await messagesIn(queue)).unacked === 0, 'the ack after stop');
    expect(got.length).toBe(1);
    expect(await b.queueLength(queue)).toBe(2);
  });

  it('close() gives unacked deliveries back, is idempotent, and refuses later publishes', async () => {
    const b = newBroker(vh.url);
    const queue = uniqueName('close');
    for (let i = 0; i < 4; i++) await b.publish(queue, taskMessage('py.add', [i, 0]));
    const got: Delivery[] = [];
    await b.consume({ queues: [queue], prefetch: 2 }, (d) => got.push(d));
    await waitFor(() => got.length === 2, 'two deliveries');
    await Promise.all([b.close(), b.close()]);
    await b.close();
    await expect(got[0].ack()).resolves.toBeUndefined();
    const other = broker(vh.url);
    await waitFor(async () => (await other.queueLength(queue)) === 4, 'all four back in the queue');
    await expect(b.publish(queue, taskMessage('py.add', [9, 0]))).rejects.toBeInstanceOf(BrokerUnavailableError);
  });

  it('warns when a task time limit exceeds RabbitMQ consumer_timeout', () => {
    const b = broker(vh.url);
    expect(b.checkConsumerTimeout(60)).toBeNull();
    expect(b.checkConsumerTimeout(null)).toBeNull();
    expect(b.checkConsumerTimeout(3600, 'Task tasks.long')).toMatch(
      /Task tasks\.long .*3600 s.*consumer_timeout of 1800 s/,
    );
    expect(broker(vh.url, {}, { consumerTimeout: 7_200_000 }).checkConsumerTimeout(3600)).toBeNull();
  });
});
