import Redis from 'ioredis';
import { RunningDashboard, TaskClient, startStandaloneDashboard } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { PythonWorker, startPythonWorker } from '../support/python-celery';
import {
  deletePrefix,
  deleteResults,
  inspector,
  queueKeys,
  removeBindingsMentioning,
} from '../support/redis-test.helpers';
import { redisUrlFor, suiteDb } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

interface ActionReply {
  ok: boolean;
  message: string;
  replies?: Array<Record<string, unknown>>;
}

/**
 * The dashboard's actions through its API, as the page sends them (session cookie + CSRF header),
 * against our worker and a Python Celery worker: the replies the workers send back, and what changed.
 */
describe('Dashboard actions: retry, limits, consumers, dead letters, shutdown (Redis, our worker + Python worker)', () => {
  const DB = suiteDb('dashboardAuth');
  const URL = redisUrlFor(DB);
  const run = uniqueName('dash-act');
  const qNode = `${run}-node`;
  const qPy = `${run}-py`;
  const qExtra = `${run}-extra`;
  const qNodeExtra = `${run}-node-extra`;
  const nodeHost = `node-${run}@test`;
  const pyHost = `py-${run}@test`;
  const historyPrefix = `${run}:monitor:`;
  const ids: string[] = [];
  let r: Redis;
  let worker: RunningWorker;
  let python: PythonWorker;
  let dash: RunningDashboard;
  let client: TaskClient;
  let cookie = '';
  let csrf = '';

  const act = async (name: string, body: Record<string, unknown>): Promise<ActionReply> => {
    const res = await fetch(`${dash.url}api/actions/${name}`, {
      method: 'POST',
      headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const json = (await res.json()) as ActionReply;
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  const get = async <T>(path: string): Promise<T> => (await (await fetch(`${dash.url}${path}`)).json()) as T;
  const task = (id: string) =>
    get<{ task: { state: string; name: string } }>(`api/tasks/${id}`)
      .then((b) => b.task)
      .catch(() => null);
  const replyOf = (a: ActionReply, host: string) =>
    Object.assign({}, ...(a.replies ?? []))[host] as Record<string, unknown> | undefined;

  beforeAll(async () => {
    r = inspector(DB);
    [worker, python] = await Promise.all([
      startWorker(
        { brokerUrl: URL, resultBackend: URL, worker: { queues: [qNode], hostname: nodeHost, sendTaskEvents: true } },
        { imports: [TasksModule] },
      ),
      startPythonWorker({
        broker: URL,
        backend: URL,
        queues: [qPy],
        hostname: pyHost,
        args: ['--without-mingle', '--without-gossip', '-E'],
      }),
    ]);
    client = worker.app.get(TaskClient);
    dash = await startStandaloneDashboard({
      taskQueue: { brokerUrl: URL, resultBackend: URL },
      port: 0,
      monitor: { historyPrefix, queues: [qNode, qPy], inspectIntervalSeconds: 1, queueIntervalSeconds: 1 },
    });
    const s = await fetch(`${dash.url}api/session`);
    cookie = (s.headers.get('set-cookie') ?? '').split(';')[0];
    csrf = ((await s.json()) as { csrf: string }).csrf;
    await waitFor(
      async () =>
        (await get<{ workers: Array<{ queues: string[] }> }>('api/workers')).workers.filter((w) => w.queues.length)
          .length === 2,
      'both workers and their queues on the dashboard',
    );
  }, 90_000);

  afterAll(async () => {
    await dash?.close();
    await Promise.allSettled([worker?.close(), python?.stop()]);
    await deleteResults(r, ids);
    await deletePrefix(r, historyPrefix);
    await r.del(
      ...queueKeys(qNode),
      ...queueKeys(qPy),
      ...queueKeys(qExtra),
      ...queueKeys(qNodeExtra),
      `${qNode}.dead-letter`,
    );
    await removeBindingsMentioning(r, [qNode, qPy, qExtra, qNodeExtra, pyHost, nodeHost]);
    r.disconnect();
  });

  it('retry sends a failed task again with its arguments', async () => {
    const first = await client.sendTask('tasks.fail', ['boom <b>'], {}, { queue: qNode });
    ids.push(first.id);
    await waitFor(async () => (await task(first.id))?.state === 'FAILURE', 'the failure in the history');
    const a = await act('retry', { taskId: first.id });
    expect(a.message).toMatch(new RegExp(`^Sent tasks.fail again to ${qNode} as `));
    const again = /as (\S+)\.$/.exec(a.message)![1];
    ids.push(again);
    expect(again).not.toBe(first.id);
    await waitFor(async () => (await task(again))?.state === 'FAILURE', 'the new run failing too');
    expect((await client.asyncResult(again).meta()).result).toMatchObject({ exc_message: ['boom <b>'] });
  });

  it('rate and time limits reach the workers, whose replies come back', async () => {
    // Addressed to our worker only: other suites' workers may share this DB.
    const rate = await act('rate_limit', { taskName: 'tasks.add', rateLimit: '100/m', worker: nodeHost });
    expect(rate.replies).toEqual([{ [nodeHost]: { ok: 'new rate limit set successfully' } }]);
    const time = await act('time_limit', { taskName: 'tasks.add', soft: 10, hard: 20, worker: nodeHost });
    expect(time.replies).toEqual([{ [nodeHost]: { ok: 'time limits set successfully' } }]);
  });

  it('start and stop consuming a queue on the Python worker', async () => {
    const add = await act('add_consumer', { worker: pyHost, queue: qExtra });
    expect(replyOf(add, pyHost)).toEqual({ ok: `add consumer ${qExtra}` });
    await waitFor(
      async () =>
        (await get<{ workers: Array<{ hostname: string; queues: string[] }> }>('api/workers')).workers
          .find((w) => w.hostname === pyHost)
          ?.queues.includes(qExtra),
      'the new queue on the workers page',
    );
    const cancel = await act('cancel_consumer', { worker: pyHost, queue: qExtra });
    expect(replyOf(cancel, pyHost)).toEqual({ ok: `no longer consuming from ${qExtra}` });
    const grow = await act('pool_grow', { worker: pyHost, n: 1 });
    expect(replyOf(grow, pyHost)).toBeDefined(); // the solo pool's answer (ok or error) is shown as sent
  });

  it('our worker answers the consumer and pool buttons as Celery does, and the workers page shows the change', async () => {
    type Workers = { workers: Array<{ hostname: string; queues: string[]; pool: { maxConcurrency: number } | null }> };
    const ours = async () => (await get<Workers>('api/workers')).workers.find((w) => w.hostname === nodeHost);
    const add = await act('add_consumer', { worker: nodeHost, queue: qNodeExtra });
    expect(add.replies).toEqual([{ [nodeHost]: { ok: `add consumer ${qNodeExtra}` } }]);
    await waitFor(async () => (await ours())?.queues.includes(qNodeExtra), 'the new queue on the workers page');
    const cancel = await act('cancel_consumer', { worker: nodeHost, queue: qNodeExtra });
    expect(cancel.replies).toEqual([{ [nodeHost]: { ok: `no longer consuming from ${qNodeExtra}` } }]);
    await waitFor(async () => !(await ours())?.queues.includes(qNodeExtra), 'the queue gone from the workers page');

    await waitFor(async () => typeof (await ours())?.pool?.maxConcurrency === 'number', 'the pool size');
    const before = (await ours())!.pool!.maxConcurrency;
    const grow = await act('pool_grow', { worker: nodeHost, n: 2 });
    expect(grow.replies).toEqual([{ [nodeHost]: { ok: 'pool will grow' } }]);
    await waitFor(async () => (await ours())?.pool?.maxConcurrency === before + 2, 'the grown pool');
    const shrink = await act('pool_shrink', { worker: nodeHost, n: 1 });
    expect(shrink.replies).toEqual([{ [nodeHost]: { ok: 'pool will shrink' } }]);
    await waitFor(async () => (await ours())?.pool?.maxConcurrency === before + 1, 'the shrunk pool');
  });

  it('deletes a dead letter, and requeues another onto its queue', async () => {
    const lettersOf = () =>
      get<{ deadLetters: Array<{ taskId: string; at: string }> }>(`api/queues/${qNode}/dead-letters`).then(
        (b) => b.deadLetters,
      );
    const gone = await client.sendTask('tasks.not_registered', [1], {}, { queue: qNode });
    const back = await client.sendTask('tasks.not_registered', [2], {}, { queue: qNode });
    ids.push(gone.id, back.id);
    await waitFor(async () => (await lettersOf()).length === 2, 'two dead letters');
    expect((await act('delete_dead_letter', { queue: qNode, taskId: gone.id })).ok).toBe(true);
    expect((await lettersOf()).map((l) => l.taskId)).toEqual([back.id]);
    const at = (await lettersOf())[0].at;
    expect((await act('requeue_dead_letter', { queue: qNode, taskId: back.id })).message).toBe(
      `Task ${back.id} is back on ${qNode}.`,
    );
    // Our worker takes it again and, the task still unknown, dead-letters it again: a new entry, later.
    await waitFor(
      async () => (await lettersOf()).some((l) => l.taskId === back.id && l.at > at),
      'the requeued message dead-lettered again',
    );
  });

  it('shuts the Python worker down; the dashboard shows it offline', async () => {
    await act('shutdown', { worker: pyHost });
    await new Promise<void>((resolve) =>
      python.process.exitCode !== null ? resolve() : python.process.once('exit', () => resolve()),
    );
    await waitFor(
      async () =>
        (await get<{ workers: Array<{ hostname: string; online: boolean }> }>('api/workers')).workers.find(
          (w) => w.hostname === pyHost,
        )?.online === false,
      'the Python worker offline',
    );
  });
});
