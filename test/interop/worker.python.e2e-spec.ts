import Redis from 'ioredis';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { runPythonJson, py } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { deleteResults, inspector, queueKeys, redisUrl, unackedFor, waiting } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * A Python Celery 5.2.6 client calls the example worker's tasks (apps/worker) through Redis DB 7:
 * `app.send_task(...).get()` must return what the Nest worker computed, and `AsyncResult(id).state`
 * must read the state it stored.
 */
describe('Redis: Python Celery client -> Nest worker', () => {
  const DB = suiteDb('interopPythonToNest');
  const URL = redisUrl(DB);
  const queue = uniqueName('interop-py2nest');
  const env = { TQ_BROKER: URL, TQ_BACKEND: URL };
  const ids: string[] = [];
  let worker: RunningWorker | undefined;
  let r: Redis;

  /** A Python snippet that sends one task and prints {id, result | exc_type/exc_str, state} as JSON. */
  const call = (send: string) => `
import json
from celery_app import app
from celery.result import AsyncResult
q = ${py(queue)}
r = ${send}
out = {"id": r.id}
try:
    out["result"] = r.get(timeout=10)
except Exception as exc:
    out["exc_type"] = type(exc).__name__
    out["exc_str"] = str(exc)
    out["exc_args"] = list(exc.args)
out["state"] = AsyncResult(r.id, app=app).state
print(json.dumps(out))
`;
  type Out = { id: string; result?: unknown; exc_type?: string; exc_str?: string; exc_args?: unknown[]; state: string };
  const runCall = async (send: string): Promise<Out> => {
    const out = await runPythonJson<Out>(call(send), env, 60_000);
    ids.push(out.id);
    return out;
  };

  beforeAll(async () => {
    r = inspector(DB);
    worker = await startWorker(
      { brokerUrl: URL, resultBackend: URL, worker: { queues: [queue], concurrency: 4 } },
      { imports: [TasksModule] },
    );
  });
  afterAll(async () => {
    await worker?.close();
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue));
    await r.quit();
  });

  it('tasks.add with positional args returns 5 to Python, and Python reads SUCCESS', async () => {
    const out = await runCall(`app.send_task("tasks.add", (2, 3), queue=q)`);
    expect(out).toMatchObject({ result: 5, state: 'SUCCESS' });
  });

  it('tasks.add with kwargs x=2, y=3 returns 5', async () => {
    const out = await runCall(`app.send_task("tasks.add", kwargs={"x": 2, "y": 3}, queue=q)`);
    expect(out).toMatchObject({ result: 5, state: 'SUCCESS' });
  });

  it('tasks.xsum with a list returns its sum', async () => {
    const out = await runCall(`app.send_task("tasks.xsum", ([1, 2, 3, 4, 5.5],), queue=q)`);
    expect(out).toMatchObject({ result: 15.5, state: 'SUCCESS' });
  });

  it('the seed task myapp.tasks.my_task(0.1) returns its sentence', async () => {
    const out = await runCall(`app.send_task("myapp.tasks.my_task", (0.1,), queue=q)`);
    expect(out).toMatchObject({ result: 'Task completed in 0.1 seconds!', state: 'SUCCESS' });
  });

  it('tasks.fail raises in Python .get() with our message, and Python reads FAILURE', async () => {
    const out = await runCall(`app.send_task("tasks.fail", ("the disk is full",), queue=q)`);
    expect(out.result).toBeUndefined();
    // Our worker stores {exc_type: "Error", exc_module: "nodejs"}; Python cannot import "nodejs",
    // so it builds a same-named exception class (celery.backends.base.exception_to_python).
    expect(out.exc_type).toBe('Error');
    expect(out.exc_str).toBe('the disk is full');
    expect(out.exc_args).toEqual(['the disk is full']);
    expect(out.state).toBe('FAILURE');
  });

  it('leaves nothing waiting or unacked on the queue', async () => {
    await waitFor(
      async () => (await waiting(r, queue)) === 0 && (await unackedFor(r, queue)).length === 0,
      'the queue and unacked to be empty',
      20_000,
    );
    expect(await waiting(r, queue)).toBe(0);
    expect(await unackedFor(r, queue)).toEqual([]);
    // Every task sent above arrived and ran: our worker stored a result for each.
    expect(ids.length).toBeGreaterThan(0);
    const missing = [];
    for (const id of ids) if (!(await r.exists(`celery-task-meta-${id}`))) missing.push(id);
    expect(missing).toEqual([]);
  });
});
