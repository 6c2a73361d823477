import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { SharedTask } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { deleteResults, inspector, redisUrl } from '../support/redis-test.helpers';
import { uniqueName, waitFor } from '../support/wait';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { suiteDb } from '../support/test-env';

const REDIS_DB = suiteDb('amqpResults');
const runs = new Map<number, number>();

@Injectable()
class LossTasks {
  /** Counts its runs per index, to find duplicates (the worker runs in this process). */
  @SharedTask('amqp.loss')
  async loss(i: number): Promise<number> {
    runs.set(i, (runs.get(i) ?? 0) + 1);
    // Long enough that hundreds are queued or running when the connections go.
    await new Promise((r) => setTimeout(r, 20));
    return i;
  }
}

/**
 * The real worker on RabbitMQ, results in Redis DB 10: 1200 tasks, every connection of the vhost
 * closed twice while they run (`rabbitmqctl close_all_connections --vhost`). Every task must reach
 * SUCCESS; duplicates (at-least-once: a delivery whose ack was lost with the connection runs again)
 * are counted and reported.
 */
describe('AMQP: the worker loses its connections twice during 1200 tasks', () => {
  const total = 1200;
  const queue = uniqueName('loss');
  let vh: TestVhost;
  let r: Redis;
  let worker: RunningWorker | undefined;
  let client: RunningClient | undefined;
  const ids: string[] = [];

  beforeAll(async () => {
    vh = await createTestVhost('worker-loss');
    r = inspector(REDIS_DB);
    const options = {
      brokerUrl: vh.url,
      resultBackend: redisUrl(REDIS_DB),
      publishTimeout: 30_000,
      amqp: { reconnectDelay: 50, reconnectMaxDelay: 500 },
    };
    worker = await startWorker(
      { ...options, worker: { queues: [queue], concurrency: 8, hostname: `${uniqueName('loss')}@test` } },
      { imports: [TasksModule], providers: [LossTasks] },
    );
    client = await startClient(options);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    if (r) {
      await deleteResults(r, ids);
      await r.quit();
    }
    await vh?.delete();
  }, 60_000);

  const succeeded = async (): Promise<number> => {
    let n = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const values = await r.mget(...ids.slice(i, i + 500).map((id) => `celery-task-meta-${id}`));
      n += values.filter((v) => v && (JSON.parse(v) as { status: string }).status === 'SUCCESS').length;
    }
    return n;
  };

  it('every task reaches SUCCESS; duplicates are reported', async () => {
    const send = async (from: number, to: number) => {
      const sent = await Promise.all(
        Array.from({ length: to - from }, (_, k) => client!.client.sendTask('amqp.loss', [from + k], {}, { queue })),
      );
      ids.push(...sent.map((s) => s.id));
    };
    await send(0, 400);
    const atCut: number[] = [];
    await waitFor(() => runs.size >= 100, 'the first 100 runs', 60_000);
    atCut.push(runs.size);
    await vh.closeConnections();
    await send(400, 800);
    await waitFor(() => runs.size >= 500, '500 runs', 60_000);
    atCut.push(runs.size);
    await vh.closeConnections();
    await send(800, total);
    await waitFor(
      async () => runs.size === total && (await succeeded()) === total,
      `${total} SUCCESS results in Redis`,
      120_000,
    );
    const duplicates = [...runs.values()].reduce((n, c) => n + c - 1, 0);
    console.log(
      `connection loss x2 (cut at ${atCut.join(' and ')} tasks run): ${total} tasks, all SUCCESS, ${duplicates} duplicate runs`,
    );
    expect(atCut.every((n) => n < total)).toBe(true);
    expect(ids).toHaveLength(total);
  }, 240_000);
});
