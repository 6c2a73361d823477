import { extname, join } from 'node:path';
import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import {
  ConfigurationError,
  Reject,
  SoftTimeLimitExceededError,
  TimeLimitExceededError,
  WorkerLostError,
} from '../errors';
import { TASK_QUEUE_CONFIG } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRequest } from '../protocol/task-message';
import { TaskContext } from '../context/task-context';
import { ResolvedTaskOptions } from '../worker/task-options';
import { ResolvedPoolOptions } from '../options/pool-options';
import { FromPoolWorker } from './pool-messages';
import { EncodedError, decodeError, encodeError } from './pool-error.codec';
import { PoolWorkerExit, PoolWorkerHandle } from './pool-worker.handle';
import { ThreadPoolWorker } from './thread-pool-worker';
import { ProcessPoolWorker } from './process-pool-worker';
import { describeExit } from './pool-exit.reason';
import { PoolModuleRef, locatePoolModule } from './pool-module.locator';

/** Seconds a retiring pool worker gets to exit on its own before it is killed. */
const RETIRE_GRACE_MS = 5000;
/** Task ids remembered as having lost a pool worker once (oldest forgotten first). */
const LOST_MEMORY = 10_000;

interface PoolJob {
  req: TaskRequest;
  task: string;
  ctx: TaskContext;
  options: ResolvedTaskOptions;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  started: () => void;
  done: boolean;
  slot: Slot | null;
  /** A soft time limit that passed while the job waited for a pool worker. */
  softReason?: EncodedError;
  onAbort: () => void;
}

interface Slot {
  handle: PoolWorkerHandle;
  ready: boolean;
  job: PoolJob | null;
  tasks: number;
  memoryKiB: number | null;
  /** Set when the pool killed it on purpose (hard time limit, terminate): its exit is not a loss. */
  killedFor: string | null;
  retiring: boolean;
  bootError: string | null;
  idleTimer: NodeJS.Timeout | null;
}

/**
 * Runs CPU-bound tasks (`@SharedTask({ cpu: true })`) in pool workers, threads or processes, one
 * task per pool worker at a time, so the worker's event loop stays free for remote control,
 * heartbeats, acks and the other tasks. Pool workers start on demand, boot the app's Nest module
 * once, and are replaced when killed (hard time limit, terminate), lost (crash, exit, OOM),
 * recycled (maxTasksPerChild, maxMemoryPerChild) or idle (poolIdleTimeout). The executor keeps
 * owning the task's life (states, time limit timers, retries): this class only carries the call.
 */
@Injectable()
export class TaskPool implements OnApplicationShutdown {
  private readonly logger = new Logger('TaskQueuePool');
  private readonly options: ResolvedPoolOptions;
  private readonly slots = new Set<Slot>();
  private readonly queue: PoolJob[] = [];
  private readonly lostOnce = new Set<string>();
  private moduleRef: PoolModuleRef | null = null;
  private exitHook: (() => void) | null = null;

  constructor(
    @Inject(TASK_QUEUE_CONFIG) config: ResolvedTaskQueueOptions,
    private readonly modules: ModulesContainer,
  ) {
    this.options = config.worker;
  }

  /** Pool workers alive now (booting, idle or busy). */
  get size(): number {
    return this.slots.size;
  }

  /**
   * Runs a task in a pool worker; settles as the task would on the event loop. `started` is called
   * when a pool worker takes it (the time limits count from there, not from the wait for a worker).
   */
  run(
    task: string,
    req: TaskRequest,
    ctx: TaskContext,
    options: ResolvedTaskOptions,
    started: () => void,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const job: PoolJob = {
        req,
        task,
        ctx,
        options,
        resolve,
        reject,
        started,
        done: false,
        slot: null,
        onAbort: () => this.onAbort(job),
      };
      ctx.signal.addEventListener('abort', job.onAbort);
      this.queue.push(job);
      this.pump();
    });
  }

  private finish(job: PoolJob, settle: () => void): void {
    if (job.done) return;
    job.done = true;
    job.ctx.signal.removeEventListener('abort', job.onAbort);
    settle();
  }

  /** Soft limit: the task's signal fires inside the pool worker. Hard limit, terminate: the pool worker is killed. */
  private onAbort(job: PoolJob): void {
    const reason = job.ctx.signal.reason as unknown;
    if (reason instanceof SoftTimeLimitExceededError) {
      if (job.slot) job.slot.handle.send({ t: 'abort', id: job.req.id, reason: encodeError(reason) });
      else job.softReason = encodeError(reason);
      return;
    }
    const slot = job.slot;
    if (slot) {
      slot.killedFor =
        reason instanceof TimeLimitExceededError
          ? `${job.task}[${job.req.id}] ran past its hard time limit of ${reason.seconds}s`
          : `${job.task}[${job.req.id}] was revoked with terminate`;
      this.logger.warn(`Killing pool worker ${slot.handle.id}: ${slot.killedFor}. A new one starts on demand.`);
      slot.handle.kill();
    } else {
      const i = this.queue.indexOf(job);
      if (i >= 0) this.queue.splice(i, 1);
    }
    this.finish(job, () => job.reject(reason));
  }

  private pump(): void {
    while (this.queue.length) {
      const idle = [...this.slots].find((s) => s.ready && !s.job && !s.retiring);
      if (idle) {
        this.assign(idle, this.queue.shift()!);
        continue;
      }
      const booting = [...this.slots].filter((s) => !s.ready).length;
      if (this.slots.size >= this.options.poolSize || booting >= this.queue.length) return;
      if (!this.spawn()) return;
    }
  }

  private assign(slot: Slot, job: PoolJob): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
    slot.job = job;
    job.slot = slot;
    slot.handle.send({
      t: 'run',
      id: job.req.id,
      task: job.task,
      args: job.req.args,
      kwargs: job.req.kwargs,
      request: job.ctx.request,
      retry: { maxRetries: job.options.maxRetries, defaultRetryDelay: job.options.defaultRetryDelay },
      aborted: job.softReason,
    });
    job.started();
  }

  private spawn(): boolean {
    try {
      this.moduleRef ??= locatePoolModule(this.options.poolModule, this.modules);
    } catch (err) {
      this.failQueued(err);
      return false;
    }
    const entry = join(__dirname, `pool-worker.entry${extname(__filename)}`);
    const heap = this.options.maxHeapPerChild;
    const handle =
      this.options.pool === 'threads' ? new ThreadPoolWorker(entry, heap) : new ProcessPoolWorker(entry, heap);
    const slot: Slot = {
      handle,
      ready: false,
      job: null,
      tasks: 0,
      memoryKiB: null,
      killedFor: null,
      retiring: false,
      bootError: null,
      idleTimer: null,
    };
    this.slots.add(slot);
    handle.onMessage((m) => this.onMessage(slot, m));
    handle.onExit((exit) => this.onExit(slot, exit));
    handle.send({ t: 'init', ...this.moduleRef, measureMemory: this.options.maxMemoryPerChild > 0 });
    this.installExitHook();
    return true;
  }

  private onMessage(slot: Slot, m: FromPoolWorker): void {
    switch (m.t) {
      case 'ready':
        slot.ready = true;
        this.pump();
        if (!slot.job) this.armIdle(slot);
        return;
      case 'bootFailed': {
        const err = decodeError(m.error) as Error;
        slot.bootError = err.message;
        const where = `${this.moduleRef?.exportName} from ${this.moduleRef?.modulePath}`;
        this.logger.error(`Pool worker ${slot.handle.id} could not boot ${where}: ${err.message}`, err.stack);
        this.failQueued(
          new ConfigurationError(
            `A pool worker could not boot ${where}: ${err.message}. Fix the module, or set worker.poolModule to one that boots.`,
          ),
        );
        return;
      }
      case 'state': {
        const job = slot.job;
        // A state sent just before the pool worker was killed must not overwrite REVOKED or FAILURE.
        if (!job || job.done || job.req.id !== m.id) return;
        Promise.resolve()
          .then(() => job.ctx.updateState(m.state, m.meta))
          .then(
            () => slot.handle.send({ t: 'stateDone', seq: m.seq }),
            (err: unknown) => slot.handle.send({ t: 'stateDone', seq: m.seq, error: encodeError(err) }),
          );
        return;
      }
      case 'done': {
        const job = slot.job;
        slot.job = null;
        slot.tasks++;
        slot.memoryKiB = m.memoryKiB;
        if (job && job.req.id === m.id) {
          if (m.ok) this.finish(job, () => job.resolve(m.value));
          else
            this.finish(job, () =>
              job.reject(decodeError(m.error, [...job.options.autoretryFor, ...job.options.dontAutoretryFor])),
            );
        }
        const why = this.recycleReason(slot);
        if (why) this.retire(slot, why);
        this.pump();
        if (!slot.job && !slot.retiring) this.armIdle(slot);
        return;
      }
    }
  }

  private recycleReason(slot: Slot): string | null {
    const { maxTasksPerChild, maxMemoryPerChild } = this.options;
    if (maxTasksPerChild > 0 && slot.tasks >= maxTasksPerChild)
      return `it ran ${slot.tasks} task(s) (worker.maxTasksPerChild ${maxTasksPerChild})`;
    if (maxMemoryPerChild > 0 && slot.memoryKiB !== null && slot.memoryKiB > maxMemoryPerChild) {
      return `its memory, ${slot.memoryKiB} KiB, is over worker.maxMemoryPerChild ${maxMemoryPerChild} KiB`;
    }
    return null;
  }

  private armIdle(slot: Slot): void {
    const seconds = this.options.poolIdleTimeout;
    if (seconds <= 0 || slot.idleTimer) return;
    slot.idleTimer = setTimeout(
      () => this.retire(slot, `it was idle for ${seconds}s (worker.poolIdleTimeout)`),
      seconds * 1000,
    );
    slot.idleTimer.unref();
  }

  /** Lets a pool worker exit after its task; a replacement starts when a task needs one. */
  private retire(slot: Slot, why: string): void {
    if (slot.retiring) return;
    slot.retiring = true;
    this.slots.delete(slot);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    this.logger.log(`Replacing pool worker ${slot.handle.id}: ${why}.`);
    slot.handle.send({ t: 'exit' });
    setTimeout(() => slot.handle.kill(), RETIRE_GRACE_MS).unref();
  }

  private onExit(slot: Slot, exit: PoolWorkerExit): void {
    this.slots.delete(slot);
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    const job = slot.job;
    slot.job = null;
    if (slot.killedFor || (slot.retiring && !job)) return this.pump();
    const why = describeExit(exit, this.options.maxHeapPerChild, slot.memoryKiB);
    if (!slot.ready) {
      // Not respawned here: a module that cannot boot would otherwise restart forever (bullmq#4283).
      this.logger.error(`Pool worker ${slot.handle.id} exited while booting: ${why}.`);
      this.failQueued(
        new ConfigurationError(
          `A pool worker exited while booting its module (${why})${slot.bootError ? `: ${slot.bootError}` : ''}.`,
        ),
      );
      return;
    }
    if (job && !job.done) this.lost(slot, job, why);
    else this.logger.warn(`Pool worker ${slot.handle.id} exited while idle: ${why}.`);
    this.pump();
  }

  /**
   * The task's pool worker died. With acksLate and rejectOnWorkerLost (the defaults) the message goes
   * back to the queue once; if it was already delivered before (or lost a worker here before), it
   * fails with WorkerLostError and is dead-lettered, so a message that kills its worker every time
   * cannot loop (Celery warns of that loop and leaves it to you).
   */
  private lost(slot: Slot, job: PoolJob, why: string): void {
    const id = job.req.id;
    const message = `Worker exited prematurely: ${why}. Pool worker ${slot.handle.id} (${slot.handle.kind}) was running ${job.task}[${id}].`;
    const giveBack = job.options.acksLate && job.options.rejectOnWorkerLost;
    const again = job.ctx.request.deliveryInfo.redelivered || this.lostOnce.has(id);
    if (giveBack && !again) {
      this.lostOnce.add(id);
      if (this.lostOnce.size > LOST_MEMORY) this.lostOnce.delete(this.lostOnce.values().next().value as string);
      this.finish(job, () =>
        job.reject(
          new Reject(`${message} The message goes back to the queue once (acksLate + rejectOnWorkerLost).`, true),
        ),
      );
      return;
    }
    const tail = giveBack
      ? ' It had already been delivered before: FAILURE, and the message goes to the dead-letter place.'
      : '';
    this.logger.error(`${message}${tail}`);
    this.finish(job, () => job.reject(new WorkerLostError(message, giveBack)));
  }

  private failQueued(err: unknown): void {
    for (const job of this.queue.splice(0)) this.finish(job, () => job.reject(err));
  }

  /** Pool workers never outlive the worker: killed when it exits, even on a cold shutdown or a crash. */
  private installExitHook(): void {
    if (this.exitHook) return;
    this.exitHook = () => {
      for (const s of this.slots) s.handle.kill();
    };
    process.on('exit', this.exitHook);
  }

  /** After the worker drained (warm shutdown): idle pool workers exit; any still running is killed. */
  async onApplicationShutdown(): Promise<void> {
    for (const slot of [...this.slots]) {
      if (slot.job) slot.handle.kill();
      else this.retire(slot, 'the worker is shutting down');
    }
    if (this.exitHook) process.off('exit', this.exitHook);
    this.exitHook = null;
  }
}
