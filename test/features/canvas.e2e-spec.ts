import { taskRef } from 'nestjs-celery';
import { memoryBusFor } from 'nestjs-celery/internal/brokers/memory/memory.bus';
import { messageOf, parseEnvelope } from 'nestjs-celery/internal/brokers/kombu/kombu-envelope';
import { parseTaskMessage } from 'nestjs-celery/internal/protocol/task-message';
import { loadVector } from '../support/celery-vectors';
import { MathTasks } from '../../apps/worker/src/tasks/math.tasks';
import { canvasSuite } from '../suites/canvas.suite';
import { amqpTarget, memoryTarget, redisTarget } from '../support/broker-targets';
import { startClient } from '../support/nest-apps';
import { uniqueName } from '../support/wait';

canvasSuite(memoryTarget('canvas'));
canvasSuite(redisTarget('canvas'));
// RabbitMQ with Redis results: everything, chords included.
canvasSuite(amqpTarget('canvas', 'redis'));
// RabbitMQ with rpc:// results: chains and groups; chords are refused at build time, as in Celery.
canvasSuite(amqpTarget('canvas-rpc', 'rpc'), { chords: false });

describe('canvas wire shape', () => {
  it('a chain message carries the rest, reversed, in embed.chain, as the captured Celery message does', async () => {
    const add = taskRef(MathTasks, 'add');
    const url = `memory://${uniqueName('chain-shape')}`;
    const queue = uniqueName('chain-shape');
    const producer = await startClient({ brokerUrl: url });
    const c = producer.client;
    await c.chain(c.signature(add, [1, 2], {}, { queue }), c.signature(add, [3]), c.signature(add, [4]));
    const req = parseTaskMessage(messageOf(parseEnvelope(memoryBusFor(url).shift(queue)!)));
    const captured = loadVector('redis-task-envelope-chain.json').body_json[2].chain as Array<Record<string, unknown>>;
    const shape = (s: Record<string, unknown>) => ({ ...s, options: Object.keys(s.options as object).sort() });
    expect(req.embed.chain!.map(shape)).toEqual(captured.map(shape));
    await producer.close();
  });
});
