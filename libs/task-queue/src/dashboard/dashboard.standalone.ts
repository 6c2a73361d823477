import { INestApplication, LogLevel, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskQueueModule } from '../task-queue.module';
import { TaskQueueModuleOptions } from '../options/task-queue-options';
import { TaskQueueDashboardModule } from './dashboard.module';
import { TaskQueueDashboardOptions } from './dashboard.options';

export interface StandaloneDashboardOptions extends Omit<TaskQueueDashboardOptions, 'guard' | 'path'> {
  /** Broker, backend and other connection options (as TaskQueueModule.forRoot). */
  taskQueue: TaskQueueModuleOptions;
  /** @defaultValue 5555 (Flower's port) */
  port?: number;
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** Nest log levels. @defaultValue ['error', 'warn'] */
  logger?: LogLevel[];
}

export interface RunningDashboard {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

/** The dashboard as its own HTTP server (what `taskq dashboard` runs), mounted at `/`. */
export async function startStandaloneDashboard(o: StandaloneDashboardOptions): Promise<RunningDashboard> {
  @Module({
    imports: [
      TaskQueueModule.forRoot({ ...o.taskQueue, isGlobal: true }),
      TaskQueueDashboardModule.register({ path: '', basicAuth: o.basicAuth, readOnly: o.readOnly, monitor: o.monitor }),
    ],
  })
  class StandaloneDashboardModule {}

  const app = await NestFactory.create(StandaloneDashboardModule, { logger: o.logger ?? ['error', 'warn'] });
  app.enableShutdownHooks();
  const host = o.host ?? '127.0.0.1';
  await app.listen(o.port ?? 5555, host);
  const addr = app.getHttpServer().address() as { port: number };
  return { app, url: `http://${host}:${addr.port}/`, close: () => app.close() };
}
