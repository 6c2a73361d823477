import { Injectable } from '@nestjs/common';
import { CurrentTask, SharedTask, TaskContext, TaskControl } from 'nestjs-celery';
import { EVENT_EXCHANGE } from 'nestjs-celery/internal/protocol/event-message';
import { decodeJson } from 'nestjs-celery/internal/protocol/json.codec';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { uniqueName, waitFor } from '../support/wait';
import { BrokerTarget } from '../support/broker-targets';

const started: string[] = [];

@Injectable()
class BlockingTasks {
  @SharedTask('ctl.block')
  async block(@CurrentTask() ctx: TaskContext): Promise<string> {
    started.push(ctx.request.id);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    return 'aborted';
  }
}

/** The one reply of a command sent to one node. */
async function reply(replies: Promise<Array<Record<string, unknown>>>): Promise<unknown> {
  const [only] = await replies;
  return only ? Object.values(only)[0] : undefined;
}

/** Remote control and events (issue 6, revoke), the same on every broker. */
export function controlSuite(target: BrokerTarget): void {
  describe(`remote control and events (${target.name})`, () => {
    const hostname = `${uniqueName('node-a')}@test`;
    let worker: RunningWorker;
    let producer: RunningClient;
    let control: TaskControl;
    const events: Array<Record<string, unknown>> = [];
    let stopListening: () => Promise<void>;

    beforeAll(async () => {
      await target.setup();
      producer = await startClient(target.options());
      stopListening = await producer.broker.listen!(
        EVENT_EXCHANGE,
        { name: 'celeryev.test', bindingKey: '#', autoDelete: true },
        (m) => {
          const body = decodeJson(m.body.toString()) as Record<string, unknown> | Array<Record<string, unknown>>;
          for (const e of Array.isArray(body) ? body : [body]) events.push(e);
        },
      );
      worker = await startWorker(target.options({ worker: { hostname, sendTaskEvents: true } }), {
        imports: [TasksModule],
        providers: [BlockingTasks],
      });
      control = producer.get(TaskControl);
    });
    afterAll(async () => {
      await stopListening?.();
      await producer?.close();
      await worker?.close();
      await target.teardown();
    });

    it('answers ping and inspect registered/stats with Celery reply shapes', async () => {
      expect(await control.ping({ destination: [hostname] })).toEqual([{ [hostname]: { ok: 'pong' } }]);
      const [registered] = await control.inspect('registered', {}, { destination: [hostname] });
      expect(registered[hostname]).toEqual(expect.arrayContaining(['tasks.add', 'ctl.block']));
      await (await producer.client.sendTask('tasks.add', [1, 2])).get({ timeout: 5000 });
      const [stats] = await control.inspect('stats', {}, { destination: [hostname] });
      expect(stats[hostname]).toMatchObject({
        total: { 'tasks.add': 1 },
        pid: process.pid,
        pool: { 'max-concurrency': expect.any(Number) },
      });
    });

    it('answers an unknown command with an error, as Celery does', async () => {
      expect(await control.inspect('no_such_cmd', {}, { destination: [hostname] })).toEqual([
        { [hostname]: { error: "KeyError('no_such_cmd')" } },
      ]);
    });

    it('lists active tasks, and revoke with terminate broadcast by the client aborts one', async () => {
      const result = await producer.client.sendTask('ctl.block');
      await waitFor(() => started.includes(result.id), 'the task to start');
      const [active] = await control.inspect('active', {}, { destination: [hostname] });
      expect(active[hostname]).toEqual([
        expect.objectContaining({ id: result.id, name: 'ctl.block', hostname, worker_pid: process.pid }),
      ]);
      await result.revoke({ terminate: true });
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excMessage: ['terminated'] });
      const [revoked] = await control.inspect('revoked', {}, { destination: [hostname] });
      expect(revoked[hostname]).toContain(result.id);
    });

    it('a task revoked through the client before it arrives never runs', async () => {
      const id = uniqueName('pre-revoked');
      await producer.client.revoke(id);
      await waitFor(
        async () =>
          ((await control.inspect('revoked', {}, { destination: [hostname] }))[0]?.[hostname] as string[]).includes(id),
        'the revoke to land',
      );
      const result = await producer.client.sendTask('tasks.add', [1, 1], {}, { taskId: id });
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ state: 'REVOKED', excMessage: ['revoked'] });
    });

    it('changes a rate limit remotely, and refuses an unknown task', async () => {
      expect(
        await control.inspect(
          'rate_limit',
          { task_name: 'tasks.add', rate_limit: '10/m' },
          { destination: [hostname] },
        ),
      ).toEqual([{ [hostname]: { ok: 'new rate limit set successfully' } }]);
      expect(
        await control.inspect('rate_limit', { task_name: 'tasks.add', rate_limit: null }, { destination: [hostname] }),
      ).toEqual([{ [hostname]: { ok: 'rate limit disabled successfully' } }]);
      expect(
        await control.inspect('rate_limit', { task_name: 'nope', rate_limit: '1/s' }, { destination: [hostname] }),
      ).toEqual([{ [hostname]: { error: 'unknown task nope' } }]);
    });

    it('refuses a rate that is not one, and time limits that are not seconds, naming the value', async () => {
      const ask = (method: string, args: Record<string, unknown>) =>
        reply(control.inspect(method, { task_name: 'tasks.add', ...args }, { destination: [hostname] }));
      expect(await ask('rate_limit', { rate_limit: 'fast' })).toEqual({
        error: expect.stringMatching(/^Invalid rate limit string: "fast" \(.*'10\/s', '100\/m' or '1000\/h'/),
      });
      expect(await ask('rate_limit', { rate_limit: -5 })).toEqual({
        error: expect.stringContaining('Invalid rate limit string: -5'),
      });
      expect(await ask('time_limit', { soft: 10, hard: -1 })).toEqual({
        error: 'Invalid time limit: hard=-1; give seconds >= 0, or null for no limit.',
      });
      expect(await ask('time_limit', { soft: 'ten', hard: 20 })).toEqual({
        error: 'Invalid time limit: soft="ten"; give seconds >= 0, or null for no limit.',
      });
      expect(await ask('time_limit', { soft: 10, hard: 20 })).toEqual({ ok: 'time limits set successfully' });
      expect(await ask('time_limit', { soft: null, hard: null })).toEqual({ ok: 'time limits set successfully' });
      await expect((await producer.client.sendTask('tasks.add', [2, 2])).get({ timeout: 5000 })).resolves.toBe(4);
    });

    it('add_consumer makes a task waiting on a new queue run; cancel_consumer stops taking from it', async () => {
      const queue = uniqueName('ctl-extra');
      const first = await producer.client.sendTask('tasks.add', [1, 2], {}, { queue });
      expect(await reply(control.inspect('add_consumer', { queue }, { destination: [hostname] }))).toEqual({
        ok: `add consumer ${queue}`,
      });
      await expect(first.get({ timeout: 5000 })).resolves.toBe(3);
      const queues = (await reply(control.inspect('active_queues', {}, { destination: [hostname] }))) as Array<{
        name: string;
      }>;
      expect(queues.map((q) => q.name)).toEqual([target.defaultQueue, queue]);

      expect(await reply(control.inspect('cancel_consumer', { queue }, { destination: [hostname] }))).toEqual({
        ok: `no longer consuming from ${queue}`,
      });
      const second = await producer.client.sendTask('tasks.add', [2, 3], {}, { queue });
      await waitFor(async () => (await producer.broker.queueLength(queue)) === 1, 'the task to wait in its queue');
      // A task on the default queue runs, so the worker is consuming: the other one still waits.
      await (await producer.client.sendTask('tasks.add', [0, 0])).get({ timeout: 5000 });
      expect(await producer.broker.queueLength(queue)).toBe(1);
      expect(await second.ready()).toBe(false);
      const after = (await reply(control.inspect('active_queues', {}, { destination: [hostname] }))) as Array<{
        name: string;
      }>;
      expect(after.map((q) => q.name)).toEqual([target.defaultQueue]);

      await control.inspect('add_consumer', { queue }, { destination: [hostname] });
      await expect(second.get({ timeout: 5000 })).resolves.toBe(5);
      await control.inspect('cancel_consumer', { queue }, { destination: [hostname] });
    });

    it('pool_grow and pool_shrink change the slots and the prefetch that stats reports', async () => {
      const stats = async () =>
        (await reply(control.inspect('stats', {}, { destination: [hostname] }))) as {
          pool: { 'max-concurrency': number };
          prefetch_count: number;
        };
      const before = (await stats()).pool['max-concurrency'];
      expect(await reply(control.inspect('pool_grow', { n: 2 }, { destination: [hostname] }))).toEqual({
        ok: 'pool will grow',
      });
      expect(await stats()).toMatchObject({
        pool: { 'max-concurrency': before + 2 },
        prefetch_count: (before + 2) * 4,
      });
      expect(await reply(control.inspect('pool_shrink', { n: 2 }, { destination: [hostname] }))).toEqual({
        ok: 'pool will shrink',
      });
      expect(await stats()).toMatchObject({ pool: { 'max-concurrency': before }, prefetch_count: before * 4 });
      expect(await reply(control.inspect('pool_shrink', { n: before }, { destination: [hostname] }))).toEqual({
        error: `Invalid argument for pool_shrink: the pool has ${before} slot(s); it cannot shrink by ${before} (at least 1 stays)`,
      });
      expect(await reply(control.inspect('pool_grow', { n: 'two' }, { destination: [hostname] }))).toEqual({
        error: 'Invalid argument for pool_grow: n must be a whole number >= 1, got "two"',
      });
      await expect((await producer.client.sendTask('tasks.add', [3, 3])).get({ timeout: 5000 })).resolves.toBe(6);
    });

    it('autoscale: an error without it; with it the pool grows while tasks wait and shrinks when idle', async () => {
      expect(await reply(control.inspect('autoscale', { max: 4, min: 1 }, { destination: [hostname] }))).toEqual({
        error: "ValueError('Autoscale not enabled')",
      });
      const scaled = `${uniqueName('node-s')}@test`;
      const queue = uniqueName('ctl-scaled');
      const w = await startWorker(
        target.options({ worker: { hostname: scaled, queues: [queue], autoscale: { max: 3, min: 1, keepalive: 0 } } }),
        { imports: [TasksModule], providers: [BlockingTasks] },
      );
      try {
        const stats = async () =>
          (await reply(control.inspect('stats', {}, { destination: [scaled] }))) as {
            pool: { 'max-concurrency': number };
            autoscaler: Record<string, number>;
          };
        expect(await stats()).toMatchObject({ pool: { 'max-concurrency': 1 }, autoscaler: { max: 3, min: 1 } });
        const blocked = await Promise.all(
          [1, 2, 3].map(() => producer.client.sendTask('ctl.block', [], {}, { queue })),
        );
        await waitFor(() => blocked.every((r) => started.includes(r.id)), 'three tasks running at once');
        expect((await stats()).pool['max-concurrency']).toBe(3);
        expect(await reply(control.inspect('pool_grow', { n: 1 }, { destination: [scaled] }))).toEqual({
          error: 'pool_grow is not supported with autoscale. Adjust autoscale range instead.',
        });
        await producer.client.revoke(
          blocked.map((r) => r.id),
          { terminate: true },
        );
        await waitFor(async () => (await stats()).pool['max-concurrency'] === 1, 'the pool to shrink back to min');
        expect(await reply(control.inspect('autoscale', { max: 5, min: 2 }, { destination: [scaled] }))).toEqual({
          ok: 'autoscale now max=5 min=2',
        });
        expect(await stats()).toMatchObject({ pool: { 'max-concurrency': 2 }, autoscaler: { max: 5, min: 2 } });
      } finally {
        await w.close();
      }
    });

    it('sends worker-online, and task events with the fields celery events reads', async () => {
      const result = await producer.client.sendTask('tasks.mul', [3, 4]);
      await result.get({ timeout: 5000 });
      await waitFor(() => events.some((e) => e.type === 'task-succeeded' && e.uuid === result.id), 'task-succeeded');
      expect(events.find((e) => e.type === 'worker-online')).toMatchObject({
        hostname,
        freq: 2,
        sw_ident: 'nest-celery',
        utcoffset: expect.any(Number),
        clock: expect.any(Number),
      });
      const mine = events.filter((e) => e.uuid === result.id).map((e) => e.type);
      expect(mine).toEqual(['task-received', 'task-started', 'task-succeeded']);
      expect(events.find((e) => e.type === 'task-received' && e.uuid === result.id)).toMatchObject({
        name: 'tasks.mul',
        args: '(3, 4)',
        kwargs: '{}',
      });
      expect(events.find((e) => e.type === 'task-succeeded' && e.uuid === result.id)).toMatchObject({
        result: '12',
        runtime: expect.any(Number),
      });
    });
  });
}
