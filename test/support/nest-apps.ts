import { INestMicroservice, Module, ModuleMetadata, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  TaskClient,
  TaskQueueModule,
  TaskQueueModuleOptions,
  TaskQueueServer,
  TASK_QUEUE_BROKER,
  TASK_QUEUE_RESULT_BACKEND,
  Broker,
  ResultBackend,
} from 'nestjs-celery';

export interface RunningWorker {
  app: INestMicroservice;
  server: TaskQueueServer;
  broker: Broker;
  backend: ResultBackend;
  close(): Promise<void>;
}

/**
 * Boots a real worker microservice (TaskQueueServer strategy) through Nest's testing module,
 * with the given task providers/modules, and starts consuming.
 */
export async function startWorker(
  options: TaskQueueModuleOptions,
  metadata: ModuleMetadata = {},
): Promise<RunningWorker> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TaskQueueModule.forRoot({ ...options, isGlobal: true, worker: { handleSignals: false, ...options.worker } }),
      ...(metadata.imports ?? []),
    ],
    providers: metadata.providers ?? [],
  }).compile();
  const server = moduleRef.get(TaskQueueServer);
  const app = moduleRef.createNestMicroservice({ strategy: server });
  app.useLogger(process.env.TEST_LOGS ? ['log', 'warn', 'error'] : false);
  try {
    await app.listen();
  } catch (err) {
    await app.close(); // a worker that refused to start still opened connections
    throw err;
  }
  return {
    app,
    server,
    broker: moduleRef.get(TASK_QUEUE_BROKER),
    backend: moduleRef.get(TASK_QUEUE_RESULT_BACKEND),
    close: () => app.close(),
  };
}

export interface RunningClient {
  client: TaskClient;
  broker: Broker;
  /** Any provider of the client app (TaskControl, …). */
  get<T>(token: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

/** Boots a producer-only app (the module without the worker strategy) and returns its TaskClient. */
export async function startClient(
  options: TaskQueueModuleOptions,
  imports: Array<Type | ReturnType<typeof Module>> = [],
): Promise<RunningClient> {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot(options), ...(imports as Type[])],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    client: app.get(TaskClient),
    broker: app.get(TASK_QUEUE_BROKER),
    get: (token) => app.get(token),
    close: () => app.close(),
  };
}
