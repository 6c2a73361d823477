import { DynamicModule, Module, Provider } from '@nestjs/common';
import { RouterModule } from '@nestjs/core';
import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskClient } from '../client/task.client';
import { TaskControl } from '../control/task-control';
import { resolveMonitorOptions } from '../monitor/monitor.options';
import { TaskMonitor } from '../monitor/task-monitor.service';
import { TASK_QUEUE_BROKER, TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { BeatService } from '../beat/beat.service';
import { DashboardActions } from './dashboard.actions';
import { PeriodicEntriesReader } from './periodic-entries.reader';
import { PERIODIC_ENTRY_SOURCE, PeriodicEntrySource } from './periodic-entry.source';
import { DashboardAuthGuard } from './dashboard-auth.guard';
import { DashboardController } from './dashboard.controller';
import { DashboardHealthController } from './dashboard-health.controller';
import { TaskQueueProbe } from '../health/task-queue.probe';
import { DashboardMonitorHost } from './dashboard-monitor.host';
import { DASHBOARD_OPTIONS, DASHBOARD_USER_GUARD, TaskQueueDashboardOptions } from './dashboard.options';

/**
 * The monitoring dashboard as a Nest module, mounted at `path` of your app (RouterModule). It needs
 * the broker, backend and TaskControl of a global `TaskQueueModule`.
 *
 * @example TaskQueueDashboardModule.register({ path: 'dashboard', basicAuth: ['admin:secret'] })
 * @example TaskQueueDashboardModule.register({ path: 'ops/queues', guard: AdminGuard, readOnly: true })
 */
@Module({})
export class TaskQueueDashboardModule {
  static register(options: TaskQueueDashboardOptions = {}): DynamicModule {
    const path = (options.path ?? 'dashboard').replace(/^\/+|\/+$/g, '');
    const providers: Provider[] = [
      { provide: DASHBOARD_OPTIONS, useValue: { ...options, path } },
      options.guard
        ? { provide: DASHBOARD_USER_GUARD, useClass: options.guard }
        : { provide: DASHBOARD_USER_GUARD, useValue: null },
      {
        provide: TaskMonitor,
        useFactory: (broker: Broker, backend: ResultBackend, control: TaskControl, config: ResolvedTaskQueueOptions) =>
          new TaskMonitor(broker, backend, control, config, resolveMonitorOptions(options.monitor)),
        inject: [TASK_QUEUE_BROKER, TASK_QUEUE_RESULT_BACKEND, TaskControl, TASK_QUEUE_CONFIG],
      },
      {
        provide: PeriodicEntriesReader,
        useFactory: (source: PeriodicEntrySource | null, beat: BeatService | null) =>
          new PeriodicEntriesReader(source ?? null, beat ?? null),
        inject: [
          { token: PERIODIC_ENTRY_SOURCE, optional: true },
          { token: BeatService, optional: true },
        ],
      },
      {
        provide: DashboardActions,
        useFactory: (broker: Broker, client: TaskClient, monitor: TaskMonitor, periodic: PeriodicEntriesReader) =>
          new DashboardActions(broker, client, monitor, periodic),
        inject: [TASK_QUEUE_BROKER, TaskClient, TaskMonitor, PeriodicEntriesReader],
      },
      {
        provide: TaskQueueProbe,
        useFactory: (broker: Broker, backend: ResultBackend, control: TaskControl, config: ResolvedTaskQueueOptions) =>
          new TaskQueueProbe(broker, backend, control, config.defaultQueue),
        inject: [TASK_QUEUE_BROKER, TASK_QUEUE_RESULT_BACKEND, TaskControl, TASK_QUEUE_CONFIG],
      },
      DashboardAuthGuard,
      DashboardMonitorHost,
    ];
    return {
      module: TaskQueueDashboardModule,
      imports: path ? [RouterModule.register([{ path, module: TaskQueueDashboardModule }])] : [],
      // The health controller has no auth guard: probes carry no credentials (see its comment).
      controllers: [DashboardController, DashboardHealthController],
      providers,
      exports: [TaskMonitor],
    };
  }
}
