import Redis from 'ioredis';
import { TaskClient, TaskState } from 'nestjs-celery';
import { buildTaskMessage, ORIGIN } from 'nestjs-celery/internal/protocol/task-message';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { deleteResults, inspector, queueKeys } from '../support/redis-test.helpers';
import { suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';
import { deadLetterQueueOf } from 'nestjs-celery/internal/brokers/broker.interface';

/**
 * Time limits of any valid length work, and a message whose numeric headers are not valid numbers
 * goes to the dead-letter place with its reason (never read as "no limit" or "0 retries").
 */
describe('Limits and numeric headers (Redis)', () => {
  const URL = suiteRedisUrl('reliability');
  const queue = uniqueName('limits');
  const ids: string[] = [];
  let worker: RunningWorker;
  let client: RunningClient;
  let r: Redis;

  beforeAll(async () => {
    r = inspector(suiteDb('reliability'));
    worker = await startWorker(
      { brokerUrl: URL, resultBackend: URL, defaultQueue: queue, worker: { queues: [queue], concurrency: 4 } },
      { imports: [TasksModule] },
    );
    client = await startClient({ brokerUrl: URL, resultBackend: URL, defaultQueue: queue });
  });
  afterAll(async () => {
    await client?.close();
    await worker?.close();
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue), deadLetterQueueOf(queue));
    await r.quit();
  });

  it('a hard time limit over 2^31 ms (about 24.9 days) does not fire at once: the task succeeds', async () => {
    const tc: TaskClient = client.client;
    const limit = 2 ** 31 / 1000 + 3600; // seconds
    const result = await tc.sendTask('tasks.sleep', [0.3], {}, { timeLimit: limit, softTimeLimit: limit });
    ids.push(result.id);
    expect(await result.get({ timeout: 20_000 })).toBe(0.3);
  });

  it.each([
    ['timelimit ["10", null]', { timelimit: ['10', null] }, /hard time limit .* got "10"/],
    ['timelimit [-5, null]', { timelimit: [-5, null] }, /hard time limit .* got -5/],
    ['retries "2"', { retries: '2' }, /"retries" header must be a whole number >= 0; got "2"/],
    ['eta "tomorrow"', { eta: 'tomorrow' }, /"eta" header is not an ISO-8601 time/],
    ['expires 12', { expires: 12 }, /"expires" header is not an ISO-8601 time/],
  ])('a message with %s is dead-lettered with the reason, and the task never runs', async (_what, headers, reason) => {
    const msg = buildTaskMessage('tasks.add', [1, 2], {}, {}, { replyTo: '', origin: ORIGIN });
    Object.assign(msg.headers, headers);
    const id = String(msg.headers.id);
    ids.push(id);
    await worker.broker.publish(queue, msg);
    const dead = await waitFor(
      async () => (await worker.broker.readDeadLetters(queue)).find((d) => d.message.headers.id === id),
      'the dead letter',
    );
    expect(dead.reason).toMatch(reason);
    expect((await client.client.asyncResult(id).meta()).status).toBe(TaskState.PENDING);
  });
});
