/**
 * The benchmark worker: a small Nest microservice with one task, `tasks.add`, run by
 * TaskQueueServer from 'nestjs-celery'. Started by bench/run.ts as a separate process (compiled
 * to bench/.build first, so no TypeScript compiler sits in its memory), configured by BENCH_CFG.
 *
 * Completion is counted with @OnTaskEvent('succeeded'), which the executor emits after the
 * result is stored (and before the ack), like Celery's task_postrun and BullMQ's 'completed'.
 * IPC to the driver, as the BullMQ anchor does: 'ready' (time just before listen(), i.e. before
 * the module init hooks run, the broker connects and consumption starts), 'progress' (count, first/last completion time,
 * throttled to one message per 2 ms), 'stopped' (own CPU seconds).
 */
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { OnTaskEvent, SharedTask, TaskQueueModule, TaskQueueServer } from 'nestjs-celery';
import { moduleOptions, readConfig } from './config';

const cfg = readConfig();
const now = () => performance.timeOrigin + performance.now();
const send = (m: unknown) => process.send?.(m);

/** process.memoryUsage() in MB: where the RSS goes (V8 heap, external buffers, the rest is code and libs). */
const memory = () =>
  Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, +(v / 1048576).toFixed(1)]));

/** cfg.trace: per task id, when the delivery reached the worker and when its result was stored. */
const trace = new Map<string, [number, number]>();

let count = 0;
let tFirst: number | null = null;
let tLast: number | null = null;
let scheduled = false;
const report = () => {
  scheduled = false;
  send({ type: 'progress', count, tFirst, tLast });
};

@Injectable()
export class BenchTasks {
  @SharedTask('tasks.add')
  add(x: number, y: number): number {
    return x + y;
  }

  @OnTaskEvent('succeeded')
  onSucceeded(event: { request: { id: string } }): void {
    count++;
    tLast = now();
    if (cfg.trace) {
      const t = trace.get(event.request.id);
      if (t) t[1] = tLast;
    }
    if (tFirst === null) tFirst = tLast;
    if (!scheduled) {
      scheduled = true;
      setTimeout(report, 2);
    }
  }

  @OnTaskEvent('failed', 'rejected', 'revoked')
  onFailed(event: { type: string; error?: unknown; reason?: string }): void {
    send({ type: 'failed', err: `${event.type}: ${String(event.error ?? event.reason)}` });
  }
}

/** Only in the latency scenario: a 'received' listener makes the worker build that event for every task. */
@Injectable()
export class TraceEvents {
  @OnTaskEvent('received')
  onReceived(event: { request: { id: string } }): void {
    trace.set(event.request.id, [now(), 0]);
  }
}

@Module({
  imports: [TaskQueueModule.forRoot(moduleOptions(cfg, true))],
  providers: cfg.trace ? [BenchTasks, TraceEvents] : [BenchTasks],
})
export class BenchWorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(BenchWorkerModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
    logger: ['error', 'warn'],
  });
  process.on('message', async (m) => {
    if (m === 'trace') return send({ type: 'trace', trace: [...trace] });
    if (m !== 'stop') return;
    const cpu = process.cpuUsage();
    const mem = memory();
    await app.close();
    send({ type: 'stopped', cpu_s: (cpu.user + cpu.system) / 1e6, mem });
    setTimeout(() => process.exit(0), 10);
  });
  // 'ready' = just before listen(): listen() runs the module init hooks, connects the broker and the
  // backend and starts consuming, so ready→done includes all of that (conservative for us).
  send({ type: 'ready', t: now() });
  await app.listen();
  send({ type: 'listening', t: now(), mem: memory() });
}

main().catch((err) => {
  send({ type: 'error', err: String((err as Error)?.stack ?? err) });
  process.exit(1);
});
