import Redis from 'ioredis';
import { TaskFailedError, TaskState } from 'nestjs-celery';
import { RunningClient, startClient } from '../support/nest-apps';
import { PythonWorker, startPythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import {
  deleteResults,
  inspector,
  queueKeys,
  redisUrl,
  removeBindingsMentioning,
  unackedFor,
  waiting,
} from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * Our TaskClient (a producer-only Nest app) calls tasks of a real Python Celery 5.2.6 worker
 * (test/python/celery_app.py, solo pool) through Redis DB 8, and reads the results Python stored.
 */
describe('Redis: Nest client -> Python Celery worker', () => {
  const DB = suiteDb('interopNestToPython');
  const URL = redisUrl(DB);
  const queue = uniqueName('interop-nest2py');
  const hostname = `${uniqueName('pyw')}@interop`;
  const ids: string[] = [];
  let python: PythonWorker | undefined;
  let producer: RunningClient | undefined;
  let r: Redis;

  const send = async <T>(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}) => {
    const result = await producer!.client.sendTask<T>(name, args, kwargs, { queue });
    ids.push(result.id);
    return result;
  };
  const failureOf = async (p: Promise<unknown>): Promise<TaskFailedError> => {
    const err = await p.then(
      () => new Error('expected the task to fail'),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    return err as TaskFailedError;
  };

  beforeAll(async () => {
    r = inspector(DB);
    python = await startPythonWorker({ broker: URL, backend: URL, queues: [queue], hostname, readyTimeoutMs: 60_000 });
    producer = await startClient({ brokerUrl: URL, resultBackend: URL });
  });
  afterAll(async () => {
    await producer?.close();
    await python?.stop();
    await deleteResults(r, ids);
    await r.del(...queueKeys(queue));
    await removeBindingsMentioning(r, [hostname, queue]);
    await r.quit();
  });

  it('py.add(2, 3) runs in Python and get() returns 5', async () => {
    const result = await send<number>('py.add', [2, 3]);
    await expect(result.get({ timeout: 20_000 })).resolves.toBe(5);
    expect(await result.state()).toBe(TaskState.SUCCESS);
    expect(await result.dateDone()).toBeInstanceOf(Date);
    await python!.waitForLog(new RegExp(`Task py\\.add\\[${result.id}\\] succeeded in [0-9.e-]+s: 5`));
  });

  it('py.add with kwargs and py.mul run too', async () => {
    const [a, m] = await Promise.all([send<number>('py.add', [], { x: 40, y: 2 }), send<number>('py.mul', [6, 7])]);
    expect(await a.get({ timeout: 20_000 })).toBe(42);
    expect(await m.get({ timeout: 20_000 })).toBe(42);
  });

  it('sendMany: 20 calls published in one MULTI all run in Python, each with its own result', async () => {
    const results = await producer!.client.sendMany<number>(
      'py.add',
      Array.from({ length: 20 }, (_, i) => ({ args: [i, 100] })),
      { queue },
    );
    ids.push(...results.map((x) => x.id));
    expect(await Promise.all(results.map((x) => x.get({ timeout: 20_000 })))).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 100),
    );
  });

  it('py.fail: get() throws TaskFailedError with excType ValueError and the message', async () => {
    const result = await send('py.fail', ['bad input 42']);
    const err = await failureOf(result.get({ timeout: 20_000 }));
    expect(err.excType).toBe('ValueError');
    expect(err.excMessage).toEqual(['bad input 42']);
    expect(err.excModule).toBe('builtins');
    expect(err.traceback).toContain('ValueError: bad input 42');
    expect(err.message).toContain('bad input 42');
    expect(await result.state()).toBe(TaskState.FAILURE);
    expect(await result.info()).toEqual({
      exc_type: 'ValueError',
      exc_message: ['bad input 42'],
      exc_module: 'builtins',
    });
  });

  it('py.custom_fail: the custom Python exception type travels (PyError)', async () => {
    const result = await send('py.custom_fail', ['custom trouble']);
    const err = await failureOf(result.get({ timeout: 20_000 }));
    expect(err.excType).toBe('PyError');
    expect(err.excMessage).toEqual(['custom trouble']);
    expect(err.excModule).toBe('celery_app');
  });

  it('py.echo round-trips JSON types: nesting, unicode, floats, null, booleans; a Date arrives as its ISO string', async () => {
    const kwargs = {
      nested: { a: [1, { b: null, c: [true, false] }], d: { e: { f: 'deep' } } },
      unicode: 'héllo wörld ✓ 日本語 🎉 \u0000-\u001f "quotes" \\ back',
      floats: [0.1, -2.5, 1e-7, 1.5e300, 3],
      nothing: null,
      yes: true,
      no: false,
      empty: { list: [], obj: {}, str: '' },
      when: new Date('2024-01-02T03:04:05.678Z'),
    };
    const result = await send<{ args: unknown[]; kwargs: Record<string, unknown> }>(
      'py.echo',
      ['pos', 7, [1, 2]],
      kwargs,
    );
    const echoed = await result.get({ timeout: 20_000 });
    const { when, ...plain } = kwargs;
    expect(echoed.args).toEqual(['pos', 7, [1, 2]]);
    expect(echoed.kwargs).toEqual({ ...plain, when: '2024-01-02T03:04:05.678000Z' });
    expect(when).toBeInstanceOf(Date);
  });

  it('leaves nothing waiting or unacked on the queue', async () => {
    await waitFor(
      async () => (await waiting(r, queue)) === 0 && (await unackedFor(r, queue)).length === 0,
      'the queue and unacked to be empty',
      20_000,
    );
    expect(await waiting(r, queue)).toBe(0);
    expect(await unackedFor(r, queue)).toEqual([]);
    // Every task sent above arrived and ran: Python stored a result for each.
    expect(ids.length).toBeGreaterThan(0);
    const missing = [];
    for (const id of ids) if (!(await r.exists(`celery-task-meta-${id}`))) missing.push(id);
    expect(missing).toEqual([]);
  });
});
