import { join } from 'node:path';
import Redis from 'ioredis';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { PythonWorker, startPythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { NodeRun, ROOT, runNode } from '../support/node-process';
import { inspector, queueKeys, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/**
 * `taskq inspect` and `taskq control` (libs/task-queue/src/cli, through ts-node) against a Python
 * Celery 5.2.6 worker and ours on one Redis DB: the replies are the workers' own, printed as
 * `celery inspect|control` prints them, and nobody answering exits 69 as Celery does.
 */
describe('Redis: taskq inspect / control against Python Celery and our worker', () => {
  const DB = suiteDb('interopPythonToNest');
  const URL = redisUrl(DB);
  const pyQueue = uniqueName('cli-remote-py');
  const added = uniqueName('cli-remote-added');
  const nestQueue = uniqueName('cli-remote-nest');
  const py = `${uniqueName('py')}@test`;
  const nest = `${uniqueName('nest')}@test`;
  const CLI = join(ROOT, 'libs', 'task-queue', 'src', 'cli', 'main.ts');
  let r: Redis;
  let pyWorker: PythonWorker | undefined;
  let worker: RunningWorker | undefined;

  const taskq = (...args: string[]): Promise<NodeRun> => runNode(CLI, args, { TASKQUEUE_BROKER_URL: URL }, 90_000);
  const ok = (run: NodeRun): string => {
    if (run.code !== 0) throw new Error(`taskq exited ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return run.stdout.trim();
  };

  beforeAll(async () => {
    r = inspector(DB);
    [pyWorker, worker] = await Promise.all([
      startPythonWorker({ broker: URL, backend: URL, queues: [pyQueue], hostname: py }),
      startWorker(
        { brokerUrl: URL, resultBackend: URL, worker: { queues: [nestQueue], hostname: nest } },
        { imports: [TasksModule] },
      ),
    ]);
  });
  afterAll(async () => {
    await pyWorker?.stop();
    await worker?.close();
    await r.del(...queueKeys(pyQueue), ...queueKeys(added), ...queueKeys(nestQueue));
    await r.quit();
  });

  it('`inspect ping -d <python>` prints its pong as celery inspect does', async () => {
    expect(ok(await taskq('inspect', 'ping', '-d', py))).toBe(`-> ${py}: OK\n        pong\n\n1 node online.`);
  });

  it('`inspect ping -d a,b --json` prints one object by node, ours and Python', async () => {
    expect(JSON.parse(ok(await taskq('inspect', 'ping', '-d', `${py},${nest}`, '--json')))).toEqual({
      [py]: { ok: 'pong' },
      [nest]: { ok: 'pong' },
    });
  });

  it('`inspect stats` and `inspect registered` print the Python worker’s own replies', async () => {
    const stats = JSON.parse(ok(await taskq('inspect', 'stats', '-d', py, '-j')));
    expect(stats[py]).toMatchObject({
      pool: { 'max-concurrency': expect.any(Number) },
      broker: { port: r.options.port },
    });
    const registered = ok(await taskq('inspect', 'registered', '-d', py));
    expect(registered).toContain(`-> ${py}: OK\n    * py.add\n`);
  });

  it('`control rate_limit py.add 10/m` gets Celery’s reply; an unknown task gets its error', async () => {
    expect(ok(await taskq('control', 'rate_limit', 'py.add', '10/m', '-d', py))).toBe(
      `-> ${py}: OK\n        new rate limit set successfully`,
    );
    expect(ok(await taskq('control', 'rate_limit', 'nope.task', '10/m', '-d', py))).toBe(
      `-> ${py}: ERROR\n        unknown task`,
    );
    expect(JSON.parse(ok(await taskq('control', 'rate_limit', 'tasks.add', '10/m', '-d', nest, '--json')))).toEqual([
      { [nest]: { ok: 'new rate limit set successfully' } },
    ]);
  });

  it('`control add_consumer <q>` makes the Python worker consume it, as `inspect active_queues` shows', async () => {
    expect(ok(await taskq('control', 'add_consumer', added, '-d', py))).toBe(
      `-> ${py}: OK\n        add consumer ${added}`,
    );
    await waitFor(async () => {
      const queues = JSON.parse(ok(await taskq('inspect', 'active_queues', '-d', py, '--json')));
      return (queues[py] as Array<{ name: string }>).map((q) => q.name).includes(added);
    }, `${py} to consume ${added}`);
  });

  it('nobody answering exits 69 with Celery’s message; a bad argument exits 2 and says why', async () => {
    const none = await taskq('inspect', 'ping', '-d', `${uniqueName('nobody')}@nowhere`);
    expect(none.code).toBe(69);
    expect(none.stderr).toContain('No nodes replied within time constraint');
    const bad = await taskq('control', 'pool_grow', 'two', '-d', py);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("pool_grow: n must be an integer, got 'two'.");
  });
});
