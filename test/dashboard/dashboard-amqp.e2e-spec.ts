import Redis from 'ioredis';
import { RunningDashboard, TaskClient, startStandaloneDashboard } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { TestVhost, createTestVhost } from '../support/rabbitmq';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { deletePrefix, deleteResults, inspector } from '../support/redis-test.helpers';
import { redisUrlFor, suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

/**
 * The dashboard on RabbitMQ: events come through its own queue on the `celeryev` topic exchange,
 * queue lengths from the broker, and the history lives in the Redis result backend (DB 14).
 */
describe('Dashboard on RabbitMQ (events, workers, queues; history in the Redis backend)', () => {
  const DB = suiteDb('dashboardAuth');
  const BACKEND = redisUrlFor(DB);
  const run = uniqueName('dash-amqp');
  const queue = `${run}-q`;
  const host = `node-${run}@test`;
  const historyPrefix = `${run}:monitor:`;
  const ids: string[] = [];
  let vh: TestVhost;
  let r: Redis;
  let worker: RunningWorker;
  let dash: RunningDashboard;

  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${dash.url}${path}`)).json()) as T;

  beforeAll(async () => {
    vh = await createTestVhost('tq-dashboard');
    r = inspector(DB);
    worker = await startWorker(
      { brokerUrl: vh.url, resultBackend: BACKEND, worker: { queues: [queue], hostname: host, sendTaskEvents: true } },
      { imports: [TasksModule] },
    );
    dash = await startStandaloneDashboard({
      taskQueue: { brokerUrl: vh.url, resultBackend: BACKEND },
      port: 0,
      monitor: { historyPrefix, queues: [queue], inspectIntervalSeconds: 1, queueIntervalSeconds: 1 },
    });
  }, 60_000);

  afterAll(async () => {
    await dash?.close();
    await worker?.close();
    await deleteResults(r, ids);
    await deletePrefix(r, historyPrefix);
    r.disconnect();
    await vh?.delete();
  });

  it('shows the worker online with its queue, and a task reaching SUCCESS', async () => {
    await waitFor(
      async () =>
        (
          await get<{ workers: Array<{ hostname: string; online: boolean; queues: string[] }> }>('api/workers')
        ).workers.find((w) => w.hostname === host && w.online && w.queues.includes(queue)),
      'the worker online with its queue',
    );
    const res = await worker.app.get(TaskClient).sendTask('tasks.add', [40, 2], {}, { queue });
    ids.push(res.id);
    await waitFor(
      async () =>
        (await get<{ tasks: Array<{ id: string; state: string; result: string }> }>('api/tasks')).tasks.find(
          (t) => t.id === res.id && t.state === 'SUCCESS' && t.result === '42',
        ),
      'the task SUCCESS in the history',
    );
    const queues = await get<{
      queues: Array<{ name: string; ready: number; consumers: string[]; brokerConsumers: number | null }>;
    }>('api/queues?refresh=1');
    expect(queues.queues.find((q) => q.name === queue)).toMatchObject({
      ready: 0,
      consumers: [host],
      brokerConsumers: 1,
    });
    const metrics = await (await fetch(`${dash.url}metrics`)).text();
    expect(metrics).toContain(`celery_task_succeeded_total{name="tasks.add",hostname="${host}"} 1`);
  });
});
