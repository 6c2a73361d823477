import { execFile } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { PYTHON } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { NodeRun, ROOT, runNode } from '../support/node-process';
import { deleteResults, inspector, queueKeys, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * The `taskq` CLI (libs/task-queue/src/cli/main.ts, run through ts-node as a child process, so no
 * build is needed) against Redis DB 7, with the example worker consuming queue `q`, and Python's
 * `celery result` reading a result our worker stored.
 */
describe('Redis: the taskq CLI with a running worker', () => {
  const DB = suiteDb('interopPythonToNest');
  const URL = redisUrl(DB);
  const queue = uniqueName('interop-cli');
  const idle = uniqueName('interop-cli-idle'); // no worker consumes it
  const CLI = join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts');
  const ids: string[] = [];
  let r: Redis;
  let worker: RunningWorker | undefined;

  const taskq = (...args: string[]): Promise<NodeRun> =>
    runNode(CLI, args, { TASKQUEUE_BROKER_URL: URL, TASKQUEUE_RESULT_BACKEND: URL }, 90_000);
  const ok = (run: NodeRun): string => {
    if (run.code !== 0) throw new Error(`taskq exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return run.stdout.trim();
  };
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

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
    await r.del(...queueKeys(queue), ...queueKeys(idle));
    await r.quit();
  });

  it('`call tasks.add --args [2,3] --queue q` prints an id; `result <id> --wait 10` prints SUCCESS and 5', async () => {
    const id = ok(await taskq('call', 'tasks.add', '--args', '[2,3]', '--queue', queue));
    expect(id).toMatch(UUID);
    ids.push(id);
    const printed = JSON.parse(ok(await taskq('result', id, '--wait', '10')));
    expect(printed).toMatchObject({ id, state: 'SUCCESS', result: 5 });
    expect(typeof printed.date_done).toBe('string');
  });

  it('`call … --wait 10` prints the result as JSON', async () => {
    const printed = JSON.parse(
      ok(await taskq('call', 'tasks.add', '--args', '[20, 22]', '--queue', queue, '--wait', '10')),
    );
    expect(printed).toMatchObject({ state: 'SUCCESS', result: 42 });
    expect(printed.id).toMatch(UUID);
    ids.push(printed.id);
  });

  it('`call tasks.add --kwargs {"x":1,"y":2} --wait 10` maps keyword arguments', async () => {
    const printed = JSON.parse(
      ok(await taskq('call', 'tasks.add', '--kwargs', '{"x":1,"y":2}', '--queue', queue, '--wait', '10')),
    );
    expect(printed).toMatchObject({ state: 'SUCCESS', result: 3 });
    ids.push(printed.id);
  });

  it('`call tasks.fail … --wait` prints the failure', async () => {
    const printed = JSON.parse(
      ok(await taskq('call', 'tasks.fail', '--args', '["cli boom"]', '--queue', queue, '--wait', '10')),
    );
    expect(printed).toMatchObject({ state: 'FAILURE', exception: { type: 'Error', message: ['cli boom'] } });
    ids.push(printed.id);
  });

  it('`purge --queue` deletes the waiting messages and says how many', async () => {
    for (let i = 0; i < 3; i++) ids.push(ok(await taskq('call', 'tasks.add', '--args', `[${i}, 1]`, '--queue', idle)));
    expect(await r.llen(idle)).toBe(3);
    expect(ok(await taskq('purge', '--queue', idle))).toBe(`Purged 3 messages from queue ${idle}.`);
    expect(await r.llen(idle)).toBe(0);
    expect(ok(await taskq('purge', '--queue', idle))).toBe(`Purged 0 messages from queue ${idle}.`);
  });

  it('a bad `--args nope` exits non-zero with a clear message and sends nothing', async () => {
    const run = await taskq('call', 'tasks.add', '--args', 'nope', '--queue', idle);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--args/);
    expect(run.stderr).toMatch(/not JSON/);
    expect(run.stdout).toBe('');
    const notArray = await taskq('call', 'tasks.add', '--args', '{"x": 1}', '--queue', idle);
    expect(notArray.code).not.toBe(0);
    expect(notArray.stderr).toMatch(/must be a JSON array/);
    expect(await r.llen(idle)).toBe(0);
  });

  it('`dead-letters --queue q` lists the message of an unknown task after the worker dead-lettered it', async () => {
    const id = ok(await taskq('call', 'no.such.task', '--args', '[1]', '--queue', queue));
    ids.push(id);
    const printed = JSON.parse(ok(await taskq('result', id, '--wait', '10')));
    expect(printed).toMatchObject({
      id,
      state: 'FAILURE',
      result: { exc_type: 'NotRegistered', exc_message: ['no.such.task'] },
    });
    await waitFor(async () => (await r.llen(`${queue}.dead-letter`)) > 0, 'the dead letter', 20_000);
    const lines = ok(await taskq('dead-letters', '--queue', queue))
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ queue, task: 'no.such.task', id });
    expect(String(lines[0].reason)).toMatch(/NotRegistered/);
    expect(JSON.parse(String(lines[0].body))[0]).toEqual([1]);
  });

  it('Python `celery -A celery_app result <id>` prints the result of a task our worker ran', async () => {
    const printed = JSON.parse(
      ok(await taskq('call', 'tasks.mul', '--args', '[6, 7]', '--queue', queue, '--wait', '10')),
    );
    ids.push(printed.id);
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        PYTHON,
        ['-m', 'celery', '-A', 'celery_app', 'result', printed.id],
        {
          cwd: join(ROOT, 'test', 'python'),
          env: { ...process.env, PYTHONPATH: join(ROOT, 'test', 'python'), TQ_BROKER: URL, TQ_BACKEND: URL },
          timeout: 60_000,
        },
        (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout.trim()).toBe('42');
  });
});
