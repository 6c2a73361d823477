import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { TaskQueueConfigurableModule, TASK_QUEUE_MODULE_OPTIONS } from './task-queue.module-definition';
import { TASK_QUEUE_BROKER, TASK_QUEUE_CONFIG, TASK_QUEUE_RESULT_BACKEND } from './task-queue.constants';
import { ResolvedTaskQueueOptions } from './options/resolved-options';
import { TaskQueueModuleOptions } from './options/task-queue-options';
import { resolveOptions } from './options/resolve-options';
import { createBroker } from './brokers/broker.factory';
import { createResultBackend } from './backends/result-backend.factory';
import { TaskRegistry } from './registry/task.registry';
import { TaskExplorer } from './discovery/task.explorer';
import { TaskClient } from './client/task.client';
import { TaskExecutor } from './worker/task.executor';
import { TaskQueueServer } from './worker/task-queue.server';
import { TaskQueueLifecycle } from './task-queue.lifecycle';
import { TaskEvents } from './events/task.events';
import { TaskContextHost } from './context/task-context.host';
import { TaskControl } from './control/task-control';
import { CanvasPublisher } from './canvas/canvas.publisher';
import { TaskPublisher } from './publish/task.publisher';
import { Workflow } from './canvas/workflow';
import { CanvasBuiltins } from './worker/canvas.builtins';
import { BEAT_PROVIDERS } from './beat/beat.providers';
import { BeatService } from './beat/beat.service';
import { TaskPool } from './pool/task.pool';
import { CPU_TASK_RUNNER } from './worker/cpu-task.runner';

/**
 * Registers the broker and result backend (chosen by URL), discovers @SharedTask methods, and
 * provides TaskClient (to send) and TaskQueueServer (the worker strategy, which consumes only when
 * a microservice runs it).
 *
 * @example TaskQueueModule.forRoot({ brokerUrl: 'redis://127.0.0.1:6379/0', isGlobal: true })
 * @example TaskQueueModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService], useFactory: (c) => ({ brokerUrl: c.get('BROKER') }) })
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: TASK_QUEUE_CONFIG,
      useFactory: (o: TaskQueueModuleOptions) => resolveOptions(o),
      inject: [TASK_QUEUE_MODULE_OPTIONS],
    },
    {
      provide: TASK_QUEUE_BROKER,
      useFactory: (c: ResolvedTaskQueueOptions) => createBroker(c),
      inject: [TASK_QUEUE_CONFIG],
    },
    {
      provide: TASK_QUEUE_RESULT_BACKEND,
      useFactory: (c: ResolvedTaskQueueOptions) => createResultBackend(c),
      inject: [TASK_QUEUE_CONFIG],
    },
    TaskRegistry,
    TaskExplorer,
    TaskClient,
    TaskExecutor,
    TaskQueueServer,
    TaskQueueLifecycle,
    TaskEvents,
    TaskContextHost,
    TaskControl,
    TaskPublisher,
    CanvasPublisher,
    Workflow,
    CanvasBuiltins,
    ...BEAT_PROVIDERS,
    TaskPool,
    { provide: CPU_TASK_RUNNER, useExisting: TaskPool },
  ],
  exports: [
    TaskClient,
    BeatService,
    TaskControl,
    TaskRegistry,
    TaskQueueServer,
    TaskContextHost,
    TASK_QUEUE_BROKER,
    TASK_QUEUE_RESULT_BACKEND,
    TASK_QUEUE_CONFIG,
  ],
})
export class TaskQueueModule extends TaskQueueConfigurableModule {}
