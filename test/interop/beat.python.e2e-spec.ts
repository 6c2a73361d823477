import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import Redis from 'ioredis';
import { CurrentTask, SharedTask, TaskContext } from 'nestjs-celery';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { PYTHON, PythonWorker, startPythonWorker } from '../support/python-celery';
import { OutputWatcher } from '../support/output-watcher';
import {
  deletePrefix,
  deleteResults,
  inspector,
  queueKeys,
  removeBindingsMentioning,
} from '../support/redis-test.helpers';
import { suiteDb, suiteRedisUrl } from '../support/test-env';
import { uniqueName, waitFor } from '../support/wait';

const fromPython: { id: string; x: number }[] = [];

@Injectable()
class FromPythonTasks {
  @SharedTask('beat_py.received')
  received(x: number, @CurrentTask() ctx: TaskContext): number {
    fromPython.push({ id: ctx.request.id, x });
    return x;
  }
}

/** Periodic tasks across languages on Redis: our beat feeds a Python Celery worker, Python's `celery beat` feeds our worker. */
describe('Periodic tasks with Python Celery (Redis)', () => {
  const URL = suiteRedisUrl('beat');
  let r: Redis;
  const ids: string[] = [];

  beforeAll(() => {
    r = inspector(suiteDb('beat'));
  });
  afterAll(async () => {
    await deleteResults(r, ids);
    await deletePrefix(r, '_taskq.beat.');
    await r.quit();
  });

  describe('our beat -> a Python worker', () => {
    const queue = uniqueName('beat-to-py');
    const hostname = `${uniqueName('pyw')}@beat`;
    let python: PythonWorker | undefined;
    let app: RunningClient | undefined;

    afterAll(async () => {
      await app?.close();
      await python?.stop();
      await r.del(...queueKeys(queue));
      await removeBindingsMentioning(r, [hostname, queue]);
    });

    it('a Python Celery worker runs py.add sent by our scheduler, with the slot id and the periodic_task_name header', async () => {
      python = await startPythonWorker({
        app: 'beat_app',
        broker: URL,
        backend: URL,
        queues: [queue],
        hostname,
        readyTimeoutMs: 60_000,
      });
      app = await startClient({
        brokerUrl: URL,
        worker: { beat: true },
        beatSchedule: {
          [`${queue}-add`]: { task: 'py.add', args: [2, 3], schedule: { every: 1 }, options: { queue, expires: 60 } },
          [`${queue}-name`]: { task: 'py.periodic_name', schedule: { every: 1 }, options: { queue, expires: 60 } },
        },
      });
      await python.waitForLog(/Task py\.add\[[0-9a-f-]{36}\] succeeded in [0-9.e-]+s: 5/, 30_000);
      const id = /Task py\.add\[([0-9a-f-]{36})\] succeeded/.exec(python.logs())![1];
      ids.push(id);
      // A UUID v5: the id of one slot of this entry.
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5/);
      await expect(app.client.asyncResult(id).get({ timeout: 10_000 })).resolves.toBe(5);
      // Python's worker sees the header as django-celery-beat sends it: task.request.periodic_task_name.
      await python.waitForLog(/Task py\.periodic_name\[[0-9a-f-]{36}\] succeeded/, 30_000);
      const nameId = /Task py\.periodic_name\[([0-9a-f-]{36})\] succeeded/.exec(python.logs())![1];
      ids.push(nameId);
      await expect(app.client.asyncResult(nameId).get({ timeout: 10_000 })).resolves.toBe(`${queue}-name`);
    });
  });

  describe("Python's celery beat -> our worker", () => {
    const queue = uniqueName('py-beat-to-nest');
    const scheduleFile = join(tmpdir(), `${uniqueName('celerybeat')}-schedule`);
    let worker: RunningWorker | undefined;
    let stopBeat: (() => Promise<void>) | undefined;

    afterAll(async () => {
      await stopBeat?.();
      await worker?.close();
      for (const f of [
        scheduleFile,
        `${scheduleFile}.db`,
        `${scheduleFile}.dat`,
        `${scheduleFile}.dir`,
        `${scheduleFile}.bak`,
      ])
        rmSync(f, { force: true });
      await r.del(...queueKeys(queue));
      await removeBindingsMentioning(r, [queue]);
    });

    it('our worker runs what `celery beat` sends every second', async () => {
      worker = await startWorker({ brokerUrl: URL, worker: { queues: [queue] } }, { providers: [FromPythonTasks] });
      const child = spawn(
        PYTHON,
        ['-m', 'celery', '-A', 'beat_app', 'beat', '-l', 'info', '-s', scheduleFile, '--pidfile='],
        {
          cwd: join(__dirname, '..', 'python'),
          env: {
            ...process.env,
            PYTHONPATH: join(__dirname, '..', 'python'),
            TQ_BROKER: URL,
            TQ_BEAT_TASK: 'beat_py.received',
            TQ_BEAT_QUEUE: queue,
          },
        },
      );
      const watcher = new OutputWatcher(child, 'celery beat');
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      stopBeat = async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
      };
      await watcher.waitFor(/Sending due task tq-from-python/, 60_000);
      await waitFor(() => fromPython.length >= 2, 'two runs sent by celery beat', 30_000);
      expect(fromPython[0].x).toBe(7);
      ids.push(...fromPython.map((f) => f.id));
    });
  });
});
