import { Injectable, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import Redis from 'ioredis';
import { CurrentTask, SharedTask, TaskClient, TaskContext, TaskControl, TaskQueueModule } from 'nestjs-celery';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningWorker, startWorker } from '../support/nest-apps';
import { PythonWorker, runPython, startPythonWorker } from '../support/python-celery';
import { uniqueName, waitFor } from '../support/wait';
import { CeleryProcess, celeryCli, spawnCelery, startGossipWorker } from '../support/python-cli';
import { inspector, redisUrl } from '../support/redis-test.helpers';
import { suiteDb } from '../support/test-env';

/** DB 6: broker shared with Python (no key prefix); DB 5: results. */
const BROKER = redisUrl(suiteDb('redisPythonBroker'));
const BACKEND = redisUrl(suiteDb('redisPythonResults'));
const PY_ENV = { TQ_BROKER: BROKER, TQ_BACKEND: BACKEND };

const started: string[] = [];

@Injectable()
class ControlTasks {
  /** Runs until its signal aborts (revoke with terminate). */
  @SharedTask('tqctl.block')
  async block(@CurrentTask() ctx: TaskContext): Promise<string> {
    started.push(ctx.request.id);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    return 'aborted';
  }
}

/** Our worker on Redis, seen and driven by Python Celery 5.2.6's own tools (celery-wire.md 8, 9, 10). */
describe('Redis: remote control and events with Python Celery', () => {
  let r: Redis;
  let rr: Redis;
  let queue: string;
  let hostname: string;
  let worker: RunningWorker;
  let app: INestApplication;
  let client: TaskClient;
  let control: TaskControl;
  const pythons: Array<PythonWorker | CeleryProcess> = [];
  const queues: string[] = [];
  const ids: string[] = [];
  /** Node names started here, to remove their leftover bindings. */
  const hosts: string[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    r = inspector(suiteDb('redisPythonBroker'));
    rr = inspector(suiteDb('redisPythonResults'));
    queue = uniqueName('tq-ctl');
    queues.push(queue);
    hostname = `${uniqueName('node')}@test`;
    hosts.push(hostname);
    worker = await startWorker(
      { brokerUrl: BROKER, resultBackend: BACKEND, worker: { hostname, queues: [queue], sendTaskEvents: true } },
      { imports: [TasksModule], providers: [ControlTasks] },
    );
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ brokerUrl: BROKER, resultBackend: BACKEND, defaultQueue: queue })],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    client = app.get(TaskClient);
    control = app.get(TaskControl);
  });

  afterAll(async () => {
    for (const p of pythons) await p.stop();
    for (const c of cleanups) await c();
    await worker?.close();
    await app?.close();
    for (const q of queues)
      await r.del(q, `${q}\x06\x163`, `${q}\x06\x166`, `${q}\x06\x169`, `_kombu.binding.${q}`, `_taskq.delayed.${q}`);
    // Python processes stopped warm remove their own bindings; a killed `celery events` leaves one: remove ours.
    for (const key of [
      '_kombu.binding.celeryev',
      '_kombu.binding.celery.pidbox',
      '_kombu.binding.reply.celery.pidbox',
    ]) {
      for (const m of await r.smembers(key)) if (hosts.some((h) => m.includes(h))) await r.srem(key, m);
    }
    if (ids.length) await rr.del(...ids.map((id) => `celery-task-meta-${id}`));
    await r.quit();
    await rr.quit();
  });

  it('answers `celery inspect ping/registered/stats/active` and shows in `celery status`', async () => {
    const ping = await celeryCli(['inspect', 'ping', '-d', hostname, '-t', '5'], PY_ENV);
    expect(ping.stdout).toMatch(new RegExp(`->\\s+${escape(hostname)}: OK\\s+pong`));

    const registered = await celeryCli(['inspect', 'registered', '-d', hostname, '-t', '5'], PY_ENV);
    expect(registered.stdout).toContain(hostname);
    for (const name of ['tasks.add', 'tasks.mul', 'tqctl.block']) expect(registered.stdout).toContain(`* ${name}`);

    const stats = await celeryCli(['inspect', 'stats', '-d', hostname, '-t', '5'], PY_ENV);
    expect(stats.stdout).toContain(`"pid": ${process.pid}`);
    expect(stats.stdout).toMatch(/"max-concurrency": \d+/);

    const blocked = await client.sendTask('tqctl.block', [], {}, { queue });
    ids.push(blocked.id);
    await waitFor(() => started.includes(blocked.id), 'the blocking task to start');
    const active = await celeryCli(['inspect', 'active', '-d', hostname, '-t', '5'], PY_ENV);
    expect(active.stdout).toContain(blocked.id);
    expect(active.stdout).toContain('tqctl.block');
    await control.revoke(blocked.id, { terminate: true });
    await expect(blocked.get({ timeout: 10_000 })).rejects.toMatchObject({ state: 'REVOKED' });

    const status = await celeryCli(['status', '-t', '3'], PY_ENV);
    expect(status.stdout).toMatch(new RegExp(`->\\s+${escape(hostname)}: OK`));
  });

  it("Python's app.control.revoke(id) reaches our worker: a task sent afterwards with that id is REVOKED and never runs", async () => {
    const id = uniqueName('py-revoked');
    ids.push(id);
    const py = await runPython(
      `from celery_app import app\napp.control.revoke(${JSON.stringify(id)})\nprint("sent")`,
      PY_ENV,
    );
    expect(py.stdout).toContain('sent');
    await waitFor(
      async () =>
        (
          (await control.inspect('revoked', {}, { destination: [hostname], timeout: 3 }))[0]?.[hostname] as
            string[] | undefined
        )?.includes(id),
      'our worker to list the id as revoked',
    );
    const result = await client.sendTask('tasks.add', [1, 2], {}, { queue, taskId: id });
    await expect(result.get({ timeout: 10_000 })).rejects.toMatchObject({ state: 'REVOKED', excMessage: ['revoked'] });
    const [stats] = await control.inspect('stats', {}, { destination: [hostname], timeout: 3 });
    expect((stats[hostname] as { total: Record<string, number> }).total['tasks.add'] ?? 0).toBe(0);
  });

  it("Python's app.control.revoke(id, terminate=True) aborts a task running on our worker", async () => {
    const result = await client.sendTask('tqctl.block', [], {}, { queue });
    ids.push(result.id);
    await waitFor(() => started.includes(result.id), 'the blocking task to start');
    await runPython(
      `from celery_app import app\napp.control.revoke(${JSON.stringify(result.id)}, terminate=True)`,
      PY_ENV,
    );
    await expect(result.get({ timeout: 10_000 })).rejects.toMatchObject({
      state: 'REVOKED',
      excMessage: ['terminated'],
    });
  });

  it('our TaskControl.revoke() reaches a Python worker: `celery inspect revoked` lists the id', async () => {
    const pyQueue = uniqueName('tq-ctl-py');
    queues.push(pyQueue);
    const pyHost = `${uniqueName('py')}@test`;
    hosts.push(pyHost);
    const py = await startPythonWorker({ broker: BROKER, backend: BACKEND, queues: [pyQueue], hostname: pyHost });
    pythons.push(py);
    // Our ping reaches it; its answer also proves its pidbox is subscribed (Pub/Sub keeps nothing for late subscribers).
    await waitFor(
      async () => (await control.ping({ destination: [pyHost], timeout: 5 }))[0]?.[pyHost],
      'the Python worker to answer our ping',
      40_000,
    );
    expect(await control.ping({ destination: [pyHost], timeout: 5 })).toEqual([{ [pyHost]: { ok: 'pong' } }]);
    const id = uniqueName('node-revoked');
    await control.revoke(id);
    await waitFor(
      async () => (await celeryCli(['inspect', 'revoked', '-d', pyHost, '-t', '5'], PY_ENV)).stdout.includes(id),
      'the Python worker to list the id',
      40_000,
    );
  });

  it('`celery events --dump` shows our worker-online, heartbeats and task events; a gossiping Python worker stays up', async () => {
    const gossipQueue = uniqueName('tq-ctl-gossip');
    const evQueue = uniqueName('tq-ctl-ev');
    queues.push(gossipQueue, evQueue);
    const pyHost = `${uniqueName('py-gossip')}@test`;
    hosts.push(pyHost);
    const gossip = await startGossipWorker({
      broker: BROKER,
      backend: BACKEND,
      queues: [gossipQueue],
      hostname: pyHost,
      logLevel: 'debug',
    });
    pythons.push(gossip);
    const bindingsBefore = new Set(await r.smembers('_kombu.binding.celeryev'));
    const dump = spawnCelery(['events', '--dump'], PY_ENV);
    pythons.push(dump);
    // `celery events` leaves its `#` binding behind when stopped (celery-wire.md 3.4): remove the one it added.
    cleanups.push(async () => {
      await dump.stop();
      for (const m of await r.smembers('_kombu.binding.celeryev'))
        if (!bindingsBefore.has(m) && m.startsWith('#\x06\x16\x06\x16celeryev.'))
          await r.srem('_kombu.binding.celeryev', m);
    });
    // Our running worker's heartbeat (every 2 s) proves the dump is subscribed before the second worker starts.
    await dump.waitForOutput(new RegExp(`${escape(hostname)} \\[[^\\]]+\\] heartbeat`), 20_000);

    const host2 = `${uniqueName('node-ev')}@test`;
    hosts.push(host2);
    const second = await startWorker(
      {
        brokerUrl: BROKER,
        resultBackend: BACKEND,
        worker: { hostname: host2, queues: [evQueue], sendTaskEvents: true },
      },
      { imports: [TasksModule] },
    );
    try {
      await dump.waitForOutput(new RegExp(`${escape(host2)} \\[[^\\]]+\\] started: .*freq=2(\\.0)?,`), 20_000);
      const result = await client.sendTask('tasks.add', [20, 22], {}, { queue: evQueue });
      ids.push(result.id);
      expect(await result.get({ timeout: 10_000 })).toBe(42);
      await dump.waitForOutput(
        new RegExp(`${escape(host2)} \\[[^\\]]+\\] task received: tasks\\.add\\(${result.id}\\) args=\\(20, 22\\)`),
        20_000,
      );
      await dump.waitForOutput(
        new RegExp(`${escape(host2)} \\[[^\\]]+\\] task succeeded: tasks\\.add\\(${result.id}\\).*result=42`),
        20_000,
      );
      await dump.waitForOutput(new RegExp(`${escape(host2)} \\[[^\\]]+\\] heartbeat: .*freq=2(\\.0)?,`), 20_000);
      // The gossiping worker read our worker.* events (it logs the join at debug level) and is alive.
      await gossip.waitForOutput(new RegExp(`${escape(host2)} joined the party`), 20_000);
    } finally {
      await second.close();
    }
    await dump.waitForOutput(new RegExp(`${escape(host2)} \\[[^\\]]+\\] shutdown`), 20_000);
    expect(gossip.alive()).toBe(true);
    expect(gossip.output()).not.toMatch(/Unrecoverable error/);
    expect(await control.ping({ destination: [pyHost], timeout: 5 })).toEqual([{ [pyHost]: { ok: 'pong' } }]);
  });

  it('`celery control add_consumer / cancel_consumer / pool_grow / pool_shrink` get Celery’s answers from our worker', async () => {
    const extra = uniqueName('tq-ctl-extra');
    queues.push(extra);
    const say = async (...args: string[]) =>
      (await celeryCli(['control', ...args, '-d', hostname, '-t', '5'], PY_ENV)).stdout;
    const reply = (status: 'OK' | 'ERROR', text: string) =>
      new RegExp(`->\\s+${escape(hostname)}: ${status}\\s+${escape(text)}`);

    expect(await say('add_consumer', extra)).toMatch(reply('OK', `add consumer ${extra}`));
    const added = await runPython(
      `from celery_app import app\nprint(app.send_task("tasks.add", (20, 22), queue=${JSON.stringify(extra)}).get(timeout=10))`,
      PY_ENV,
    );
    expect(added.stdout.trim()).toBe('42');
    const queuesNow = await celeryCli(['inspect', 'active_queues', '-d', hostname, '-t', '5', '--json'], PY_ENV);
    expect((JSON.parse(queuesNow.stdout)[hostname] as Array<{ name: string }>).map((q) => q.name)).toEqual([
      queue,
      extra,
    ]);
    expect(await say('cancel_consumer', extra)).toMatch(reply('OK', `no longer consuming from ${extra}`));

    const poolSize = async () => {
      const run = await celeryCli(['inspect', 'stats', '-d', hostname, '-t', '5', '--json'], PY_ENV);
      return JSON.parse(run.stdout)[hostname].pool['max-concurrency'] as number;
    };
    const before = await poolSize();
    expect(await say('pool_grow', '2')).toMatch(reply('OK', 'pool will grow'));
    expect(await poolSize()).toBe(before + 2);
    expect(await say('pool_shrink', '2')).toMatch(reply('OK', 'pool will shrink'));
    expect(await poolSize()).toBe(before);

    expect(await say('autoscale', '4', '2')).toMatch(reply('ERROR', "ValueError('Autoscale not enabled')"));
    expect(await say('rate_limit', 'tasks.add', 'fast')).toMatch(reply('ERROR', 'Invalid rate limit string: "fast"'));
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
