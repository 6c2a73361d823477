import { TaskClient, TaskQueueWorkerMetricsModule, WorkerMetrics } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { metricValue } from './support/browser';

/** The optional per-worker metrics: a worker's own /metrics counts what it ran (memory:// broker, no events needed). */
describe('TaskQueueWorkerMetricsModule: /metrics in the worker process', () => {
  let worker: RunningWorker;

  beforeAll(async () => {
    worker = await startWorker(
      { brokerUrl: 'memory://', resultBackend: 'memory://', worker: { hostname: 'metrics@test' } },
      { imports: [TasksModule, TaskQueueWorkerMetricsModule.register({ port: 0 })] },
    );
  });

  afterAll(async () => {
    await worker?.close();
  });

  it('counts successes and failures by task name, with runtimes', async () => {
    const client = worker.app.get(TaskClient);
    await (await client.sendTask('tasks.add', [1, 2])).get({ timeout: 10_000 });
    await (await client.sendTask('tasks.add', [3, 4])).get({ timeout: 10_000 });
    await expect((await client.sendTask('tasks.fail', ['no'])).get({ timeout: 10_000 })).rejects.toThrow();
    const url = worker.app.get(WorkerMetrics).url!;
    const text = await (await fetch(url)).text();
    expect(metricValue(text, 'celery_task_succeeded_total', { name: 'tasks.add', hostname: 'metrics@test' })).toBe(2);
    expect(metricValue(text, 'celery_task_failed_total', { name: 'tasks.fail', hostname: 'metrics@test' })).toBe(1);
    expect(metricValue(text, 'celery_task_runtime_seconds_count', { name: 'tasks.add' })).toBe(2);
  });
});
