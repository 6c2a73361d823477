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
      ).toEqual([{ [hostname]: { ok: 'new rate limit set successfully' } }]);
      expect(
        await control.inspect('rate_limit', { task_name: 'nope', rate_limit: '1/s' }, { destination: [hostname] }),
      ).toEqual([{ [hostname]: { error: 'unknown task nope' } }]);
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
