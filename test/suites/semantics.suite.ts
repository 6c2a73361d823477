import { Injectable } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CurrentTask,
  Ignore,
  OnTaskEvent,
  Reject,
  SharedTask,
  SoftTimeLimitExceededError,
  TaskContext,
  TaskContextHost,
  TaskEvent,
  TaskFailedError,
  TaskState,
} from 'nestjs-celery';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { BrokerTarget } from '../support/broker-targets';
import { uniqueName, waitFor } from '../support/wait';

class TransientError extends Error {
  override name = 'TransientError';
}
class FatalError extends TransientError {
  override name = 'FatalError';
}

const log: Record<string, unknown[]> = {};
const note = (key: string, v: unknown) => (log[key] ??= []).push(v);

@Injectable()
class Helper {
  constructor(private readonly host: TaskContextHost) {}
  currentId(): string | undefined {
    return this.host.current()?.request.id;
  }
}

@Injectable()
class SemanticsTasks {
  constructor(private readonly helper: Helper) {}

  @SharedTask('sem.flaky')
  flaky(key: string, failures: number, @CurrentTask() ctx: TaskContext): string {
    note(key, { retries: ctx.request.retries, parentId: ctx.request.parentId, queue: ctx.request.deliveryInfo.queue });
    if (ctx.request.retries < failures)
      ctx.retry({ countdown: 0.01, exc: new TransientError(`try ${ctx.request.retries}`) });
    return `ok after ${ctx.request.retries}`;
  }

  @SharedTask({
    name: 'sem.auto',
    autoretryFor: [TransientError],
    dontAutoretryFor: [FatalError],
    retryBackoff: 0.01,
    retryJitter: false,
    maxRetries: 2,
  })
  auto(key: string, kind: 'transient' | 'fatal', @CurrentTask() ctx: TaskContext): never {
    note(key, ctx.request.retries);
    throw kind === 'fatal' ? new FatalError('fatal') : new TransientError(`transient ${ctx.request.retries}`);
  }

  @SharedTask('sem.echo')
  echo(key: string, i: number): number {
    note(key, i);
    return i * 2;
  }

  @SharedTask({ name: 'sem.soft', softTimeLimit: 0.05 })
  async soft(@CurrentTask() ctx: TaskContext): Promise<string> {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    try {
      ctx.throwIfAborted();
      return 'not reached';
    } catch (err) {
      return err instanceof SoftTimeLimitExceededError ? `cleaned up after ${err.seconds}s` : 'wrong error';
    }
  }

  @SharedTask({ name: 'sem.hang', timeLimit: 0.1 })
  hang(@CurrentTask() ctx: TaskContext): Promise<never> {
    note('hang-signal', ctx.signal);
    return new Promise(() => undefined);
  }

  @SharedTask('sem.quick')
  quick(n: number): number {
    return n;
  }

  @SharedTask({ name: 'sem.limited', rateLimit: '20/s' })
  limited(key: string): number {
    const t = Date.now();
    note(key, t);
    return t;
  }

  @SharedTask('sem.progress')
  async progress(@CurrentTask() ctx: TaskContext): Promise<string> {
    await ctx.updateState('PROGRESS', { done: 1, total: 2 });
    await new Promise<void>((resolve) => (log.release ??= []).push(resolve));
    return 'done';
  }

  @SharedTask('sem.reject')
  reject(requeue: boolean): never {
    throw new Reject('not for me', requeue);
  }

  @SharedTask('sem.ignore')
  ignore(): never {
    throw new Ignore();
  }

  @SharedTask('sem.whoami')
  whoami(): string | undefined {
    return this.helper.currentId();
  }

  @SharedTask({
    name: 'sem.hooked',
    onSuccess(this: SemanticsTasks, result: unknown, ctx: TaskContext) {
      note('hooks', ['success', result, this instanceof SemanticsTasks, ctx.request.id]);
    },
    onFailure(error: unknown) {
      note('hooks', ['failure', (error as Error).message]);
    },
  })
  hooked(fail: boolean): string {
    if (fail) throw new Error('hooked failure');
    return 'hooked ok';
  }

  @SharedTask('sem.wait')
  async waitForAbort(@CurrentTask() ctx: TaskContext): Promise<string> {
    note('wait-started', ctx.request.id);
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    note('wait-aborted', (ctx.signal.reason as Error).message);
    return 'aborted';
  }
}

const globalStarts: number[] = [];

@Injectable()
class GlobalLimitedTasks {
  @SharedTask({ name: 'sem.global', globalRateLimit: '10/s' })
  run(): number {
    const t = Date.now();
    globalStarts.push(t);
    return t;
  }
}

@Injectable()
class Listener {
  @OnTaskEvent('failed', 'retried')
  onEvent(event: TaskEvent): void {
    note('events', `${event.type}:${event.request.task}`);
  }
}

/**
 * Task execution semantics (issue 6), the same on every broker. A backend that sends each result only
 * to the caller's reply queue (rpc://, as in Celery) cannot be read by id from another process, so the
 * two tests that read a result that way run only where results are stored (`resultsById`).
 */
export function semanticsSuite(target: BrokerTarget, features: { resultsById: boolean } = { resultsById: true }): void {
  const itById = (features.resultsById ? it : () => undefined) as typeof it;
  describe(`task execution semantics (${target.name})`, () => {
    let worker: RunningWorker;
    let producer: RunningClient;

    beforeAll(async () => {
      // One file runs this suite once per target: start each run with an empty log.
      for (const k of Object.keys(log)) delete log[k];
      globalStarts.length = 0;
      await target.setup();
      worker = await startWorker(target.options({ worker: { concurrency: 4, hostname: 'sem@test' } }), {
        providers: [Helper, SemanticsTasks, Listener],
      });
      producer = await startClient(target.options());
    });
    afterAll(async () => {
      for (const release of (log.release ?? []) as Array<() => void>) release();
      await producer?.close();
      await worker?.close();
      await target.teardown();
    });

    it('retries manually with the same id, retries + 1 and parent_id = itself, then succeeds', async () => {
      const key = uniqueName('flaky');
      const result = await producer.client.sendTask('sem.flaky', [key, 2]);
      expect(await result.get({ timeout: 5000 })).toBe('ok after 2');
      expect(log[key]).toEqual([
        { retries: 0, parentId: null, queue: target.defaultQueue },
        { retries: 1, parentId: result.id, queue: target.defaultQueue },
        { retries: 2, parentId: result.id, queue: target.defaultQueue },
      ]);
      expect(log.events).toContain('retried:sem.flaky');
    });

    it('sendMany / delayMany send many calls at once, run in the order given, each with its own result', async () => {
      const key = uniqueName('many');
      const results = await producer.client.sendMany<number>(
        'sem.echo',
        Array.from({ length: 50 }, (_, i) => ({ args: [key, i] })),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(50);
      expect(await Promise.all(results.map((r) => r.get({ timeout: 10_000 })))).toEqual(
        Array.from({ length: 50 }, (_, i) => i * 2),
      );
      expect(log[key]).toEqual(Array.from({ length: 50 }, (_, i) => i));

      // kwargs per call; a countdown for all (these wait in the broker, sent one by one)
      const later = uniqueName('many-later');
      const delayed = await producer.client.sendMany<number>(
        'sem.echo',
        [{ kwargs: { key: later, i: 7 } }, { args: [later], kwargs: { i: 8 } }],
        { countdown: 0.2 },
      );
      expect(await Promise.all(delayed.map((r) => r.get({ timeout: 10_000 })))).toEqual([14, 16]);

      await expect(producer.client.sendMany('sem.echo', [{ args: [later, 1] }], { taskId: 'one-id' })).rejects.toThrow(
        /taskId cannot be given to delayMany\/sendMany/,
      );
    });

    it('delay(...).get() waits on the result while the message is sent; a send that fails rejects get()', async () => {
      const key = uniqueName('chained');
      const sent = producer.client.sendTask<number>('sem.echo', [key, 21]);
      expect(sent.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await sent.get({ timeout: 5000 })).toBe(42);
      expect((await sent).id).toBe(sent.id);
      // Many in flight at once, each resolving to its own result.
      const many = Array.from({ length: 20 }, (_, i) =>
        producer.client.sendTask<number>('sem.echo', [key, i]).get({ timeout: 10_000 }),
      );
      expect(await Promise.all(many)).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
      expect(log[key]).toHaveLength(21);
      // Arguments JSON cannot carry: refused through get() (and the promise itself), nothing sent.
      const bad = producer.client.sendTask('sem.echo', [key, 10n]);
      await expect(bad.get({ timeout: 1000 })).rejects.toThrow(/Cannot send the arguments of task sem\.echo/);
      await expect(bad).rejects.toThrow(/Cannot send the arguments/);
      expect(log[key]).toHaveLength(21);
    });

    itById('stores RETRY with the cause between runs, then SUCCESS', async () => {
      const id = uniqueName('flaky-state');
      const seen: Array<{ status: string; result: unknown }> = [];
      const unsubscribe = await worker.backend.subscribe(id, (m) => seen.push({ status: m.status, result: m.result }));
      const result = await producer.client.sendTask('sem.flaky', [id, 1], {}, { taskId: id });
      await result.get({ timeout: 5000 });
      await waitFor(() => seen.some((m) => m.status === 'SUCCESS'), 'SUCCESS on this subscription too');
      unsubscribe();
      expect(seen).toEqual([
        { status: 'RETRY', result: { exc_type: 'TransientError', exc_message: ['try 0'], exc_module: 'nodejs' } },
        { status: 'SUCCESS', result: 'ok after 1' },
      ]);
    });

    it('fails with the cause once maxRetries (3) are used up', async () => {
      const key = uniqueName('flaky-max');
      const result = await producer.client.sendTask('sem.flaky', [key, 10]);
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({
        excType: 'TransientError',
        excMessage: ['try 3'],
      });
      expect(log[key]).toHaveLength(4);
    });

    it('retries automatically for autoretryFor errors with exponential backoff, then fails with the last error', async () => {
      const key = uniqueName('auto');
      const result = await producer.client.sendTask('sem.auto', [key, 'transient']);
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({
        excType: 'TransientError',
        excMessage: ['transient 2'],
      });
      expect(log[key]).toEqual([0, 1, 2]);
    });

    it('does not retry dontAutoretryFor errors, even when they match autoretryFor', async () => {
      const key = uniqueName('fatal');
      const result = await producer.client.sendTask('sem.auto', [key, 'fatal']);
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excType: 'FatalError' });
      expect(log[key]).toEqual([0]);
      expect(log.events).toContain('failed:sem.auto');
    });

    it('keeps a countdown task in the broker, not in the worker, and runs it when due', async () => {
      const queue = uniqueName('later');
      const later = await startWorker(target.options({ worker: { queues: [queue] } }), {
        providers: [Helper, SemanticsTasks],
      });
      // 1.5 s: every broker holds it (shorter waits may be held in worker memory; RabbitMQ delays in whole seconds).
      const result = await producer.client.sendTask('sem.quick', [7], {}, { queue, countdown: 1.5 });
      const broker = producer.broker;
      if (broker.delayedLength) expect(await broker.delayedLength(queue)).toBe(1);
      expect(await broker.queueLength(queue)).toBe(0);
      expect(later.server.active).toBe(0);
      expect(later.server.held).toBe(0);
      expect(await result.get({ timeout: 5000 })).toBe(7);
      await later.close();
    });

    itById(
      'moves an eta message sent straight to the queue (as Python does) into the broker, then runs it',
      async () => {
        const queue = uniqueName('py-eta');
        const later = await startWorker(target.options({ worker: { queues: [queue] } }), {
          providers: [Helper, SemanticsTasks],
        });
        const { buildTaskMessage } = await import('nestjs-celery/internal/protocol/task-message');
        const msg = buildTaskMessage(
          'sem.quick',
          [8],
          {},
          { eta: new Date(Date.now() + 1500) },
          { replyTo: 'x', origin: 'gen0@py' },
        );
        await producer.broker.publish(queue, msg); // no deliverAt: lands on the list at once, like a Python client's
        const broker = producer.broker;
        await waitFor(() => later.server.deferred === 1, 'the worker to defer it to the broker');
        expect(later.server.held).toBe(0);
        if (broker.delayedLength) expect(await broker.delayedLength(queue)).toBe(1);
        expect(await producer.client.asyncResult(msg.headers.id as string).get({ timeout: 5000 })).toBe(8);
        await later.close();
      },
    );

    it('does not run a task received after it expired, and stores it as REVOKED "expired"', async () => {
      const result = await producer.client.sendTask('sem.quick', [1], {}, { expires: new Date(Date.now() - 1000) });
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({
        excType: 'TaskRevokedError',
        excMessage: ['expired'],
        state: 'REVOKED',
      });
    });

    it('fires the soft time limit as an abort signal with a catchable SoftTimeLimitExceeded', async () => {
      const result = await producer.client.sendTask('sem.soft');
      expect(await result.get({ timeout: 5000 })).toBe('cleaned up after 0.05s');
    });

    it('abandons a task past its hard time limit, stores TimeLimitExceeded, and frees its slot', async () => {
      const result = await producer.client.sendTask('sem.hang');
      const err = (await result.get({ timeout: 5000 }).catch((e: unknown) => e)) as TaskFailedError;
      expect(err).toMatchObject({
        excType: 'TimeLimitExceeded',
        excMessage: [0.1],
        excModule: 'billiard.exceptions',
        traceback: null,
      });
      expect((log['hang-signal'][0] as AbortSignal).aborted).toBe(true);
      expect(await (await producer.client.sendTask('sem.quick', [2])).get({ timeout: 5000 })).toBe(2);
    });

    it('honours a per-call time limit (the timelimit header), which wins over the task option', async () => {
      const result = await producer.client.sendTask('sem.hang', [], {}, { timeLimit: 0.02 });
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({
        excType: 'TimeLimitExceeded',
        excMessage: [0.02],
      });
    });

    it('spaces the starts of a rate-limited task (20/s) in this worker', async () => {
      const key = uniqueName('rate');
      const sent = Date.now();
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => producer.client.sendTask('sem.limited', [key])));
      await Promise.all(results.map((r) => r.get({ timeout: 5000 })));
      const starts = (log[key] as number[]).sort((a, b) => a - b);
      // The i-th start takes the i-th 50 ms slot after the first; a busy machine can only make it later.
      for (let i = 1; i < starts.length; i++) expect(starts[i] - sent).toBeGreaterThanOrEqual(i * 50 - 2);
    });

    it('a globalRateLimit spaces starts across all workers, counted in the broker', async () => {
      const queue = uniqueName('global');
      const options = target.options({ worker: { queues: [queue], concurrency: 10 } });
      if (!producer.broker.reserveRateSlot) {
        await expect(startWorker(options, { providers: [GlobalLimitedTasks] })).rejects.toThrow(
          /globalRateLimit is set on sem\.global, but the \w+ broker cannot count starts for all workers/,
        );
        return;
      }
      const a = await startWorker(options, { providers: [GlobalLimitedTasks] });
      const b = await startWorker(options, { providers: [GlobalLimitedTasks] });
      const sent = Date.now();
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6].map(() => producer.client.sendTask('sem.global', [], {}, { queue })),
      );
      await Promise.all(results.map((r) => r.get({ timeout: 10_000 })));
      const starts = [...globalStarts].sort((x, y) => x - y);
      // The i-th start takes the i-th 100 ms slot, whichever worker runs it.
      for (let i = 1; i < starts.length; i++) expect(starts[i] - sent).toBeGreaterThanOrEqual(i * 100 - 5);
      await Promise.all([a.close(), b.close()]);
    });

    it('stores custom states from updateState, readable before the task ends', async () => {
      const result = await producer.client.sendTask('sem.progress');
      await waitFor(async () => (await result.state()) === 'PROGRESS', 'PROGRESS');
      expect(await result.info()).toEqual({ done: 1, total: 2 });
      for (const release of (log.release ?? []) as Array<() => void>) release();
      expect(await result.get({ timeout: 5000 })).toBe('done');
    });

    it('Reject dead-letters the message (no state); Ignore acks it and stores nothing', async () => {
      const rejected = await producer.client.sendTask('sem.reject', [false]);
      await waitFor(
        async () =>
          (await worker.broker.readDeadLetters(target.defaultQueue)).some((d) => d.message.headers.id === rejected.id),
        'the rejected message in the dead-letter queue',
      );
      expect(await rejected.state()).toBe(TaskState.PENDING);
      const ignored = await producer.client.sendTask('sem.ignore');
      await waitFor(
        async () => (await producer.broker.queueLength(target.defaultQueue)) === 0 && worker.server.active === 0,
        'the ignored task to finish',
      );
      expect(await ignored.state()).toBe(TaskState.PENDING);
    });

    it('gives a service deep in the call the current task through TaskContextHost', async () => {
      const result = await producer.client.sendTask('sem.whoami');
      expect(await result.get({ timeout: 5000 })).toBe(result.id);
    });

    it('calls onSuccess and onFailure with the provider as this', async () => {
      const ok = await producer.client.sendTask('sem.hooked', [false]);
      await ok.get({ timeout: 5000 });
      const bad = await producer.client.sendTask('sem.hooked', [true]);
      await bad.get({ timeout: 5000 }).catch(() => undefined);
      await waitFor(() => (log.hooks ?? []).length === 2, 'both hooks');
      expect(log.hooks).toEqual([
        ['success', 'hooked ok', true, ok.id],
        ['failure', 'hooked failure'],
      ]);
    });

    it('a revoked task never starts, and terminate aborts a running one (REVOKED "terminated")', async () => {
      const queue = uniqueName('revoke');
      const revoker = await startWorker(target.options({ worker: { queues: [queue] } }), {
        providers: [Helper, SemanticsTasks],
      });
      const running = await producer.client.sendTask('sem.wait', [], {}, { queue });
      await waitFor(() => (log['wait-started'] ?? []).includes(running.id), 'the task to start');
      revoker.server.revoke([running.id], true);
      await expect(running.get({ timeout: 5000 })).rejects.toMatchObject({
        excType: 'TaskRevokedError',
        excMessage: ['terminated'],
        state: 'REVOKED',
      });
      expect(log['wait-aborted']).toEqual(['terminated']);

      const id = uniqueName('never');
      revoker.server.revoke([id]);
      const revoked = await producer.client.sendTask('sem.quick', [1], {}, { queue, taskId: id });
      await expect(revoked.get({ timeout: 5000 })).rejects.toMatchObject({ excMessage: ['revoked'] });
      await revoker.close();
    });

    it('keeps the revoked set across a restart with stateDb', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'taskq-state-'));
      const stateDb = join(dir, 'worker.state');
      const queue = uniqueName('statedb');
      const first = await startWorker(target.options({ worker: { queues: [queue], stateDb } }), {
        providers: [Helper, SemanticsTasks],
      });
      const id = uniqueName('revoked-before-restart');
      first.server.revoke([id]);
      await first.close();
      const second = await startWorker(target.options({ worker: { queues: [queue], stateDb } }), {
        providers: [Helper, SemanticsTasks],
      });
      const result = await producer.client.sendTask('sem.quick', [1], {}, { queue, taskId: id });
      await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({ excMessage: ['revoked'] });
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
