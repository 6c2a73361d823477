/**
 * The program a pool worker runs (thread or child process). It boots the app's Nest module once
 * (so tasks get their providers by dependency injection, as on the event loop), then runs one task
 * at a time. Every state update goes to the main thread, which owns the broker and backend
 * connections; this side opens none.
 */
import 'reflect-metadata';
import { isMainThread, parentPort, threadId } from 'node:worker_threads';
import { INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskRegistry } from '../registry/task.registry';
import { TaskContextHost } from '../context/task-context.host';
import { TaskContext } from '../context/task-context';
import { PoolTaskContext } from './pool-task.context';
import { ResolvedTaskOptions } from '../worker/task-options';
import { toCallArgs } from '../worker/call-args';
import { FromPoolWorker, ToPoolWorker } from './pool-messages';
import { decodeError, encodeError } from './pool-error.codec';

type RunMessage = Extract<ToPoolWorker, { t: 'run' }>;

const send: (m: FromPoolWorker) => void = isMainThread ? (m) => process.send?.(m) : (m) => parentPort!.postMessage(m);
const onMessage = (fn: (m: ToPoolWorker) => void) =>
  isMainThread ? process.on('message', (m) => fn(m as ToPoolWorker)) : parentPort!.on('message', fn);

let app: INestApplicationContext | null = null;
let registry: TaskRegistry;
let host: TaskContextHost;
const running = new Map<string, TaskContext>();
const pendingStates = new Map<number, { resolve: () => void; reject: (e: unknown) => void }>();
let seq = 0;
let measureMemory = false;

// A child process whose parent is gone (cold shutdown, crash) has nobody to report to.
if (isMainThread) process.on('disconnect', () => process.exit(0));

onMessage((m) => {
  switch (m.t) {
    case 'init':
      measureMemory = m.measureMemory;
      void boot(m.modulePath, m.exportName);
      break;
    case 'run':
      void run(m);
      break;
    case 'abort':
      running.get(m.id)?.abort(decodeError(m.reason));
      break;
    case 'stateDone': {
      const p = pendingStates.get(m.seq);
      pendingStates.delete(m.seq);
      if (m.error) p?.reject(decodeError(m.error));
      else p?.resolve();
      break;
    }
    case 'exit':
      process.exit(0);
  }
});

async function boot(modulePath: string, exportName: string): Promise<void> {
  try {
    const mod = (require(modulePath) as Record<string, unknown>)[exportName];
    if (typeof mod !== 'function') throw new Error(`${modulePath} has no export named ${exportName}.`);
    // Nest's own start-up lines would repeat for every pool worker: only warnings and errors while booting.
    app = await NestFactory.createApplicationContext(mod as new () => unknown, {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    Logger.overrideLogger(['log', 'error', 'warn']);
    registry = app.get(TaskRegistry);
    host = app.get(TaskContextHost);
    send({ t: 'ready' });
  } catch (err) {
    send({ t: 'bootFailed', error: encodeError(err) });
    setImmediate(() => process.exit(1));
  }
}

/** What this worker's memory is, for maxMemoryPerChild: a process's RSS; a thread's own heap and external memory. */
function memoryKiB(): number | null {
  if (!measureMemory) return null;
  if (isMainThread) return Math.round(process.memoryUsage.rss() / 1024);
  const m = process.memoryUsage();
  return Math.round((m.heapTotal + m.external) / 1024);
}

async function run(m: RunMessage): Promise<void> {
  const storeState = (state: string, meta: unknown) =>
    new Promise<void>((resolve, reject) => {
      const n = ++seq;
      pendingStates.set(n, { resolve, reject });
      send({ t: 'state', id: m.id, seq: n, state, meta });
    });
  const ctx = new PoolTaskContext(() => m.request, m.retry as ResolvedTaskOptions, storeState, m.request.timeLimit[1]);
  if (m.aborted) ctx.abort(decodeError(m.aborted));
  running.set(m.id, ctx);
  try {
    const def = registry.get(m.task);
    const value = await host.run(ctx, () => def.invoke(toCallArgs(def, m.args, m.kwargs, ctx)));
    running.delete(m.id);
    try {
      send({ t: 'done', id: m.id, ok: true, value: value ?? null, memoryKiB: memoryKiB() });
    } catch (err) {
      // A result structured clone cannot carry (a function, a class instance with private slots).
      send({
        t: 'done',
        id: m.id,
        ok: false,
        error: encodeError(
          new TypeError(`The result of ${m.task} cannot be sent from the pool worker: ${(err as Error).message}`),
        ),
        memoryKiB: memoryKiB(),
      });
    }
  } catch (err) {
    running.delete(m.id);
    send({ t: 'done', id: m.id, ok: false, error: encodeError(err), memoryKiB: memoryKiB() });
  }
}

export const POOL_WORKER_ID = `${process.pid}:${threadId}`;
