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
  /** Jest's limit for a test that runs `n` taskq processes: each may take its 90 s on a loaded machine. */
  const spawns = (n: number): number => n * 90_000;
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

  it(
    '`call tasks.add --args [2,3] --queue q` prints an id; `result <id> --wait 10` prints SUCCESS and 5',
    async () => {
      const id = ok(await taskq('call', 'tasks.add', '--args', '[2,3]', '--queue', queue));
      expect(id).toMatch(UUID);
      ids.push(id);
      const printed = JSON.parse(ok(await taskq('result', id, '--wait', '10')));
      expect(printed).toMatchObject({ id, state: 'SUCCESS', result: 5 });
      expect(typeof printed.date_done).toBe('string');
    },
    spawns(2),
  );

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

  it(
    '`call tasks.fail … --wait` prints the failure and exits 1; `result <id>` exits 1 too',
    async () => {
      const run = await taskq('call', 'tasks.fail', '--args', '["cli boom"]', '--queue', queue, '--wait', '10');
      expect(run.code).toBe(1);
      const printed = JSON.parse(run.stdout);
      expect(printed).toMatchObject({ state: 'FAILURE', exception: { type: 'Error', message: ['cli boom'] } });
      ids.push(printed.id);
      const read = await taskq('result', printed.id);
      expect(read.code).toBe(1);
      expect(JSON.parse(read.stdout)).toMatchObject({ id: printed.id, state: 'FAILURE' });
    },
    spawns(2),
  );

  it(
    'an expired task: `call … --wait` prints REVOKED and exits 2; `result <id> --wait` exits 2',
    async () => {
      // --expires 0: it has expired by the time the worker reads it, so the worker stores REVOKED ("expired").
      const run = await taskq(
        'call',
        'tasks.add',
        '--args',
        '[1, 1]',
        '--queue',
        queue,
        '--expires',
        '0',
        '--wait',
        '10',
      );
      expect(run.code).toBe(2);
      const printed = JSON.parse(run.stdout);
      expect(printed).toMatchObject({ state: 'REVOKED', exception: { message: ['expired'] } });
      ids.push(printed.id);
      const read = await taskq('result', printed.id, '--wait', '10');
      expect(read.code).toBe(2);
      expect(JSON.parse(read.stdout)).toMatchObject({ id: printed.id, state: 'REVOKED' });
    },
    spawns(2),
  );

  it(
    '`call … --wait` on a queue nobody consumes exits 3 with the id; `result <id> --wait` exits 3, without --wait 0',
    async () => {
      const run = await taskq('call', 'tasks.add', '--args', '[1, 2]', '--queue', idle, '--wait', '0.5');
      expect(run.code).toBe(3);
      const printed = JSON.parse(run.stdout);
      expect(printed).toMatchObject({ state: 'PENDING' });
      expect(printed.id).toMatch(UUID);
      expect(run.stderr).toMatch(/not ready after 500 ms/);
      ids.push(printed.id);
      const waited = await taskq('result', printed.id, '--wait', '0.5');
      expect(waited.code).toBe(3);
      expect(JSON.parse(waited.stdout)).toMatchObject({ id: printed.id, state: 'PENDING' });
      const read = await taskq('result', printed.id);
      expect(read.code).toBe(0);
      expect(JSON.parse(read.stdout)).toMatchObject({ id: printed.id, state: 'PENDING' });
      await r.del(...queueKeys(idle));
    },
    spawns(3),
  );

  it(
    'with no broker given, every broker command refuses memory:// and says to set TASKQUEUE_BROKER_URL or --broker',
    async () => {
      const env = { TASKQUEUE_BROKER_URL: undefined, TASKQUEUE_RESULT_BACKEND: undefined };
      for (const args of [
        ['call', 'tasks.add', '--args', '[1, 2]'],
        ['result', '00000000-0000-0000-0000-000000000000'],
        ['purge'],
        ['status'],
        ['schedule', 'list'],
        ['dashboard', '--port', '0'],
      ]) {
        const run = await runNode(CLI, args, env, 90_000);
        expect({ args, code: run.code }).toEqual({ args, code: 1 });
        expect(run.stderr).toMatch(/no broker given: set TASKQUEUE_BROKER_URL or pass --broker/);
        expect(run.stdout).toBe('');
      }
    },
    spawns(6),
  );

  // --help texts (exit codes, -Q defaults) are checked in cli/taskq.program.spec.ts, without a process each.
  it(
    '-Q defaults to TASKQUEUE_DEFAULT_QUEUE (not TASKQUEUE_QUEUES) for call, purge and dead-letters',
    async () => {
      const own = uniqueName('interop-cli-default');
      const other = uniqueName('interop-cli-other');
      const env = {
        TASKQUEUE_BROKER_URL: URL,
        TASKQUEUE_RESULT_BACKEND: URL,
        TASKQUEUE_DEFAULT_QUEUE: own,
        TASKQUEUE_QUEUES: other,
      };
      try {
        ids.push(ok(await runNode(CLI, ['call', 'tasks.add', '--args', '[1, 2]'], env, 90_000)));
        expect(await r.llen(own)).toBe(1);
        expect(await r.llen(other)).toBe(0);
        expect(ok(await runNode(CLI, ['purge'], env, 90_000))).toBe(`Purged 1 message from queue ${own}.`);
        expect(ok(await runNode(CLI, ['dead-letters'], env, 90_000))).toBe('');
      } finally {
        await r.del(...queueKeys(own), ...queueKeys(other));
      }
    },
    spawns(3),
  );

  it(
    '`purge --queue` deletes the waiting messages and says how many',
    async () => {
      for (let i = 0; i < 3; i++)
        ids.push(ok(await taskq('call', 'tasks.add', '--args', `[${i}, 1]`, '--queue', idle)));
      expect(await r.llen(idle)).toBe(3);
      expect(ok(await taskq('purge', '--queue', idle))).toBe(`Purged 3 messages from queue ${idle}.`);
      expect(await r.llen(idle)).toBe(0);
      expect(ok(await taskq('purge', '--queue', idle))).toBe(`Purged 0 messages from queue ${idle}.`);
    },
    spawns(5),
  );

  it(
    'a bad `--args nope` exits non-zero with a clear message and sends nothing',
    async () => {
      const run = await taskq('call', 'tasks.add', '--args', 'nope', '--queue', idle);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/--args/);
      expect(run.stderr).toMatch(/not JSON/);
      expect(run.stdout).toBe('');
      const notArray = await taskq('call', 'tasks.add', '--args', '{"x": 1}', '--queue', idle);
      expect(notArray.code).not.toBe(0);
      expect(notArray.stderr).toMatch(/must be a JSON array/);
      expect(await r.llen(idle)).toBe(0);
    },
    spawns(2),
  );

  it(
    '`dead-letters --queue q` lists the message of an unknown task after the worker dead-lettered it',
    async () => {
      const id = ok(await taskq('call', 'no.such.task', '--args', '[1]', '--queue', queue));
      ids.push(id);
      const read = await taskq('result', id, '--wait', '10');
      expect(read.code).toBe(1);
      const printed = JSON.parse(read.stdout);
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
    },
    spawns(3),
  );

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
