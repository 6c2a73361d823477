import Redis from 'ioredis';
import { RunningClient, startClient } from '../support/nest-apps';
import { startWorkerProcess, WorkerProcess } from '../support/worker-process';
import { uniqueName, waitFor } from '../support/wait';
import { suiteRedisUrl } from '../support/test-env';

/** Its own Redis DB (test-env.ts `workerProcess`). */
const URL = suiteRedisUrl('workerProcess');

describe('the worker process (apps/worker) on Redis', () => {
  const queue = uniqueName('proc');
  const env = {
    TASKQUEUE_BROKER_URL: URL,
    TASKQUEUE_RESULT_BACKEND: URL,
    TASKQUEUE_QUEUES: queue,
    TASKQUEUE_CONCURRENCY: '3',
    TASKQUEUE_HOSTNAME: `${queue}@test`,
  };
  let producer: RunningClient;
  let worker: WorkerProcess | null = null;
  const redis = new Redis(URL);

  beforeAll(async () => {
    producer = await startClient({ brokerUrl: URL });
  });
  afterEach(async () => {
    if (worker && worker.child.exitCode === null) {
      worker.child.kill('SIGKILL');
      await worker.exited;
    }
  });
  afterAll(async () => {
    await producer.close();
    const keys = await redis.keys(`*${queue}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('prints a banner with node, broker, backend, queues, concurrency and tasks, then a line per task', async () => {
    worker = await startWorkerProcess(env);
    const out = worker.output();
    expect(out).toContain(`${queue}@test`);
    expect(out).toContain(`transport:   ${URL}`);
    expect(out).toContain(`results:     ${URL}`);
    expect(out).toContain('concurrency: 3');
    expect(out).toMatch(new RegExp(`\\.> ${queue}`));
    for (const t of ['tasks.add', 'tasks.mul', 'tasks.xsum', 'tasks.fail', 'tasks.sleep', 'myapp.tasks.my_task'])
      expect(out).toContain(`. ${t}`);
    const r = await producer.client.sendTask('tasks.add', [2, 3], {}, { queue });
    expect(await r.get({ timeout: 20_000 })).toBe(5);
    await worker.waitForOutput(new RegExp(`Task tasks.add\\[${r.id}\\] received`));
    await worker.waitForOutput(new RegExp(`Task tasks.add\\[${r.id}\\] succeeded in [0-9.]+s: 5`));
  });

  it('on SIGTERM finishes the running task (warm shutdown), then exits 0', async () => {
    worker = await startWorkerProcess(env);
    const r = await producer.client.sendTask('tasks.sleep', [1], {}, { queue });
    await worker.waitForOutput(new RegExp(`\\[${r.id}\\] received`));
    worker.child.kill('SIGTERM');
    await worker.waitForOutput(/warm shutdown/i);
    expect(await worker.exited).toBe(0);
    expect(await r.get({ timeout: 5000 })).toBe(1);
  });

  it('on a second signal gives the running task back to its queue at once (cold shutdown)', async () => {
    worker = await startWorkerProcess(env);
    const r = await producer.client.sendTask('tasks.sleep', [30], {}, { queue });
    await worker.waitForOutput(new RegExp(`\\[${r.id}\\] received`));
    worker.child.kill('SIGTERM');
    await worker.waitForOutput(/warm shutdown/i);
    worker.child.kill('SIGINT');
    await worker.waitForOutput(/cold shutdown/i);
    expect(await worker.exited).toBe(1);
    expect(await r.state()).toBe('PENDING');
    await waitFor(async () => (await redis.llen(queue)) === 1, 'the message back in its queue');
    const parsed = JSON.parse((await redis.lrange(queue, 0, 0))[0]) as { headers: { id: string } };
    expect(parsed.headers.id).toBe(r.id);
    const purged = await producer.broker.purge(queue);
    expect(purged).toBe(1);
  });
});
