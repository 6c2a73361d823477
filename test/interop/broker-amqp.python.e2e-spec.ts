import { AmqpBroker } from 'nestjs-celery/internal/brokers/amqp/amqp.broker';
import { RpcResultBackend } from 'nestjs-celery/internal/backends/rpc/rpc.backend';
import { Delivery } from 'nestjs-celery/internal/brokers/broker.interface';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { ResultMeta, readyMeta } from 'nestjs-celery/internal/protocol/result-meta';
import { loadVector } from '../support/celery-vectors';
import { runPython, PythonWorker, startPythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { newBroker, newRpcBackend, pyTool, taskMessage } from '../support/amqp-fixtures';

interface Typed {
  type: string;
  value: unknown;
}
interface PyMessage {
  headers: Record<string, Typed>;
  properties: Record<string, unknown>;
  body: string;
  delivery_info: { exchange: string; routing_key: string };
}

describe('AMQP interop with Python Celery 5.2.6 (py-amqp 5.1.1)', () => {
  let vh: TestVhost;
  let broker: AmqpBroker;
  let rpc: RpcResultBackend;

  beforeAll(async () => {
    vh = await createTestVhost('interop');
    broker = newBroker(vh.url);
    rpc = newRpcBackend(vh.url);
  });
  afterAll(async () => {
    await broker?.close();
    await rpc?.close();
    await vh?.delete();
  });

  it('writes headers that py-amqp reads with the types a Python client would have sent', async () => {
    const queue = uniqueName('headers');
    const msg = taskMessage(
      'py.add',
      [1, 2],
      {},
      {
        timeLimit: 300,
        softTimeLimit: 150,
        headers: {
          neg: -1,
          small: 5,
          short: 200,
          mid: 40_000,
          huge: 2 ** 40,
          flag: true,
          ratio: 1.5,
          none: null,
          nested: { a: 1, b: [1, 'x', null], c: { d: false } },
        },
      },
    );
    await broker.publish(queue, msg);
    const got = await pyTool<PyMessage>('get_headers', vh.url, { TQ_QUEUE: queue });
    const h = got.headers;
    expect(h.timelimit).toEqual({
      type: 'list',
      value: [
        { type: 'int', value: 300 },
        { type: 'int', value: 150 },
      ],
    });
    expect(h.neg).toEqual({ type: 'int', value: -1 });
    expect(h.small).toEqual({ type: 'int', value: 5 });
    expect(h.short).toEqual({ type: 'int', value: 200 });
    expect(h.mid).toEqual({ type: 'int', value: 40_000 });
    expect(h.huge).toEqual({ type: 'int', value: 2 ** 40 });
    expect(h.flag).toEqual({ type: 'bool', value: true });
    expect(h.ratio).toEqual({ type: 'float', value: 1.5 });
    expect(h.none).toEqual({ type: 'NoneType', value: null });
    expect(h.nested).toEqual({
      type: 'dict',
      value: {
        a: { type: 'int', value: 1 },
        b: {
          type: 'list',
          value: [
            { type: 'int', value: 1 },
            { type: 'str', value: 'x' },
            { type: 'NoneType', value: null },
          ],
        },
        c: { type: 'dict', value: { d: { type: 'bool', value: false } } },
      },
    });
    // Every Celery header arrives as the Python type Celery itself writes.
    expect(h.task).toEqual({ type: 'str', value: 'py.add' });
    expect(h.retries).toEqual({ type: 'int', value: 0 });
    expect(h.ignore_result).toEqual({ type: 'bool', value: false });
    expect(h.parent_id).toEqual({ type: 'NoneType', value: null });
    expect(got.properties).toMatchObject({
      content_type: 'application/json',
      content_encoding: 'utf-8',
      delivery_mode: 2,
      priority: 0,
      correlation_id: msg.headers.id,
    });
    expect(got.delivery_info).toEqual({ exchange: '', routing_key: queue, redelivered: false });

    const unset = taskMessage('py.add', [1, 2]);
    await broker.publish(queue, unset);
    const got2 = await pyTool<PyMessage>('get_headers', vh.url, { TQ_QUEUE: queue });
    expect(got2.headers.timelimit).toEqual({
      type: 'list',
      value: [
        { type: 'NoneType', value: null },
        { type: 'NoneType', value: null },
      ],
    });
  });

  describe('with a Python worker on rpc://', () => {
    let worker: PythonWorker;
    const queue = uniqueName('pyworker');

    beforeAll(async () => {
      worker = await startPythonWorker({
        broker: vh.url,
        backend: 'rpc://',
        queues: [queue],
        hostname: `${uniqueName('py')}@test`,
      });
    });
    afterAll(async () => {
      await worker?.stop();
    });

    async function runOnPython(name: string, args: unknown[], options = {}): Promise<ResultMeta> {
      const msg = taskMessage(name, args, {}, options, rpc.replyTo);
      const id = msg.headers.id as string;
      const states: ResultMeta[] = [];
      const off = await rpc.subscribe(id, (m) => states.push(m));
      await broker.publish(queue, msg);
      try {
        return await waitFor(
          () => states.find((m) => ['SUCCESS', 'FAILURE'].includes(m.status)),
          `the result of ${name}`,
          20_000,
        );
      } finally {
        off();
      }
    }

    it('runs our py.add and sends SUCCESS 5 to our rpc reply queue', async () => {
      const meta = await runOnPython('py.add', [2, 3]);
      expect(meta).toMatchObject({ status: 'SUCCESS', result: 5, traceback: null, children: [] });
      expect(await rpc.get(meta.task_id)).toMatchObject({ status: 'SUCCESS', result: 5 });
    });

    it('runs our py.fail and sends FAILURE ValueError', async () => {
      const meta = await runOnPython('py.fail', ['boom']);
      expect(meta.status).toBe('FAILURE');
      expect(meta.result).toMatchObject({ exc_type: 'ValueError', exc_message: ['boom'], exc_module: 'builtins' });
      expect(meta.traceback).toMatch(/ValueError: boom/);
    });

    it('accepts our time limits [10, 5] and [300, 150] in the timelimit header', async () => {
      await expect(runOnPython('py.mul', [3, 4], { timeLimit: 10, softTimeLimit: 5 })).resolves.toMatchObject({
        status: 'SUCCESS',
        result: 12,
      });
      await expect(runOnPython('py.mul', [5, 6], { timeLimit: 300, softTimeLimit: 150 })).resolves.toMatchObject({
        status: 'SUCCESS',
        result: 30,
      });
      expect(worker.logs()).not.toMatch(/Unrecoverable error|invalid task message|unknown message/i);
    });
  });

  it('consumes and parses a task message that Python send_task published', async () => {
    const queue = uniqueName('from-python');
    const sent = await pyTool<{ id: string; reply_to: string }>('send_task', vh.url, {
      TQ_QUEUE: queue,
      TQ_TASK: 'tasks.add',
      TQ_ARGS: '[2, 3]',
      TQ_KWARGS: '{"z": 1, "deep": {"k": [1, 2]}}',
    });
    const deliveries: Delivery[] = [];
    const consumer = await broker.consume({ queues: [queue], prefetch: 4 }, (d) => deliveries.push(d));
    const d = await waitFor(() => deliveries[0], 'the Python message');
    const req = parseTaskMessage(d.message);
    expect(req).toMatchObject({
      id: sent.id,
      task: 'tasks.add',
      args: [2, 3],
      kwargs: { z: 1, deep: { k: [1, 2] } },
      replyTo: sent.reply_to,
      correlationId: sent.id,
      protocol: 2,
    });
    expect(req.timeLimit).toEqual([null, null]);
    expect([d.exchange, d.routingKey, d.redelivered]).toEqual(['', queue, false]);
    // Same header set, in the same order, as the captured vector.
    const vector = loadVector('amqp-task-message.json').messages[0].properties.application_headers;
    expect(Object.keys(d.message.headers)).toEqual(Object.keys(vector));
    expect(d.message.headers).toMatchObject({
      lang: 'py',
      shadow: null,
      retries: 0,
      timelimit: [null, null],
      kwargsrepr: "{'z': 1, 'deep': {'k': [1, 2]}}",
    });
    expect(d.message.properties).toMatchObject({
      delivery_mode: 2,
      priority: 0,
      correlation_id: sent.id,
      reply_to: sent.reply_to,
    });
    await d.ack();
    await consumer.stop();
    expect(await broker.queueLength(queue)).toBe(0);
  });

  it('reads headers py-amqp writes as 64-bit (L) without losing the connection', async () => {
    const queue = uniqueName('big-ints');
    const r = await runPython(
      `from celery_app import app\n` +
        `app.send_task('py.add', args=[1, 2], queue='${queue}', headers={'big': 2**40, 'neg': -(2**40), 'at': 1700000000000})\n` +
        `app.send_task('py.add', args=[3, 4], queue='${queue}')\nprint('sent')`,
      { TQ_BROKER: vh.url },
    );
    expect(r.stdout).toContain('sent');
    const deliveries: Delivery[] = [];
    const consumer = await broker.consume({ queues: [queue], prefetch: 4 }, (d) => deliveries.push(d));
    await waitFor(() => deliveries.length === 2, 'both Python messages');
    expect(deliveries[0].message.headers).toMatchObject({ big: 2 ** 40, neg: -(2 ** 40), at: 1_700_000_000_000 });
    expect(parseTaskMessage(deliveries[1].message).args).toEqual([3, 4]);
    for (const d of deliveries) await d.ack();
    await consumer.stop();
  });

  it('delivers what our RpcResultBackend.store() sends to a Python client waiting on rpc://', async () => {
    const queue = uniqueName('to-python');
    const deliveries: Delivery[] = [];
    const consumer = await broker.consume({ queues: [queue], prefetch: 1 }, (d) => deliveries.push(d));
    const python = runPython('import amqp_tools; amqp_tools.send_and_get()', {
      TQ_BROKER: vh.url,
      TQ_BACKEND: 'rpc://',
      TQ_QUEUE: queue,
      TQ_TASK: 'py.add',
      TQ_ARGS: '[20, 22]',
      TQ_TIMEOUT: '10',
    });
    const d = await waitFor(() => deliveries[0], 'the Python client message');
    const req = parseTaskMessage(d.message);
    // Acting as the worker: run "py.add" and reply the way a Celery worker does.
    const sum = (req.args[0] as number) + (req.args[1] as number);
    await rpc.store(readyMeta(req.id, 'SUCCESS', sum, null), {
      replyTo: req.replyTo,
      correlationId: req.correlationId,
    });
    await d.ack();
    await consumer.stop();
    const out = await python;
    const last = JSON.parse(out.stdout.trim().split('\n').pop()!);
    expect(last).toEqual({ id: req.id, status: 'SUCCESS', result: 42 });
  });
});
