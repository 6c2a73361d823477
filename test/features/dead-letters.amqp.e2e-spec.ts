import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { loadAmqplib } from 'nestjs-celery/internal/transports/amqp/amqplib.loader';
import { Delivery, deadLetterQueueOf } from 'nestjs-celery/internal/brokers/broker.interface';
import { InvalidTaskMessageError } from 'nestjs-celery/internal/errors';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker, taskMessage } from '../support/amqp-fixtures';

describe('AMQP dead letters and unreadable deliveries', () => {
  let vh: TestVhost;
  let broker: AmqpBroker;

  beforeAll(async () => {
    vh = await createTestVhost('dead');
    broker = newBroker(vh.url);
  });
  afterAll(async () => {
    await broker?.close();
    await vh?.delete();
  });

  async function take(queue: string, n: number): Promise<Delivery[]> {
    const got: Delivery[] = [];
    const consumer = await broker.consume({ queues: [queue], prefetch: n }, (d) => got.push(d));
    await waitFor(() => got.length >= n, `${n} deliveries`);
    await consumer.stop();
    return got;
  }

  it('moves a message untouched to <queue>.dead-letter with the reason, then acks the original', async () => {
    const queue = uniqueName('dl');
    const msg = taskMessage('tasks.broken', [1, 'a'], { k: true }, { timeLimit: 300, softTimeLimit: 150, priority: 3 });
    await broker.publish(queue, msg);
    const [d] = await take(queue, 1);
    await d.deadLetter('NotRegistered: tasks.broken');

    await waitFor(async () => (await broker.queueLength(deadLetterQueueOf(queue))) === 1, 'the dead letter');
    const [row] = (await vh.list('queues', ['name', 'messages', 'durable'])).filter((r) => r[0] === queue);
    expect(row.slice(1)).toEqual(['0', 'true']);
    const [dlq] = (await vh.list('queues', ['name', 'durable', 'auto_delete'])).filter(
      (r) => r[0] === deadLetterQueueOf(queue),
    );
    expect(dlq.slice(1)).toEqual(['true', 'false']);

    const letters = await broker.readDeadLetters(queue);
    expect(letters).toHaveLength(1);
    const [l] = letters;
    expect(l.queue).toBe(queue);
    expect(l.reason).toBe('NotRegistered: tasks.broken');
    expect(Date.parse(l.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(l.message.body.equals(msg.body)).toBe(true);
    expect(l.message.headers).toEqual(msg.headers);
    expect(l.message.properties).toMatchObject({
      correlation_id: msg.properties.correlation_id,
      reply_to: msg.properties.reply_to,
      priority: 3,
      delivery_mode: 2,
    });
    expect(parseTaskMessage(l.message)).toMatchObject({
      task: 'tasks.broken',
      args: [1, 'a'],
      kwargs: { k: true },
      timeLimit: [300, 150],
    });
  });

  it('reads dead letters newest first without removing them', async () => {
    const queue = uniqueName('dl-read');
    for (let i = 0; i < 3; i++) await broker.publish(queue, taskMessage('tasks.broken', [i]));
    const got = await take(queue, 3);
    for (const [i, d] of got.entries()) await d.deadLetter(`reason ${i}`);
    await waitFor(async () => (await broker.queueLength(deadLetterQueueOf(queue))) === 3, 'three dead letters');

    const first = await broker.readDeadLetters(queue, 2);
    expect(first.map((l) => l.reason)).toEqual(['reason 2', 'reason 1']);
    const again = await broker.readDeadLetters(queue);
    expect(again.map((l) => l.reason)).toEqual(['reason 2', 'reason 1', 'reason 0']);
    await waitFor(async () => (await broker.queueLength(deadLetterQueueOf(queue))) === 3, 'all three still there');
    expect(await broker.readDeadLetters(uniqueName('never-used'))).toEqual([]);
  });

  it('hands an unreadable delivery to the consumer with transportError, and can dead-letter it', async () => {
    const queue = uniqueName('unreadable');
    await broker.publish(queue, taskMessage('py.add', [1, 2])); // declares the queue
    const raw = await loadAmqplib().connect(vh.url);
    try {
      const ch = await raw.createConfirmChannel();
      const bad = Buffer.from([0x5b, 0xff, 0xfe, 0x5d]);
      ch.sendToQueue(queue, bad, {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        persistent: true,
        headers: { task: 'py.add', id: 'bad-1' },
      });
      await ch.waitForConfirms();
    } finally {
      await raw.close();
    }
    const [good, broken] = await take(queue, 2);
    expect(good.transportError).toBeUndefined();
    await good.ack();
    expect(broken.transportError).toBeInstanceOf(InvalidTaskMessageError);
    expect(broken.transportError!.message).toMatch(/not valid UTF-8/);
    expect(broken.message.body).toEqual(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]));
    await broken.deadLetter(broken.transportError!.message);
    await waitFor(async () => (await broker.queueLength(deadLetterQueueOf(queue))) === 1, 'the dead letter');
    const [l] = await broker.readDeadLetters(queue);
    expect(l.message.body).toEqual(Buffer.from([0x5b, 0xff, 0xfe, 0x5d]));
    expect(l.reason).toMatch(/not valid UTF-8/);
  });
});
