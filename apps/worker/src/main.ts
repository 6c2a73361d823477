import { NestFactory } from '@nestjs/core';
import { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { TaskQueueError, TaskQueueServer, optionsFromEnv, parseBrokerUrl } from 'nestjs-celery';
import { WorkerModule } from './worker.module';

/**
 * The worker process: a Nest microservice whose transport strategy is TaskQueueServer.
 * Configure it with TASKQUEUE_BROKER_URL, TASKQUEUE_RESULT_BACKEND, TASKQUEUE_QUEUES, TASKQUEUE_CONCURRENCY.
 */
async function bootstrap(): Promise<void> {
  // A URL the library refuses (e.g. a password with a raw '/') is reported in one masked line here,
  // rather than by Nest's module loader with a stack trace.
  try {
    const env = optionsFromEnv();
    if (env.brokerUrl) parseBrokerUrl(env.brokerUrl, 'TASKQUEUE_BROKER_URL');
    if (env.resultBackend) parseBrokerUrl(env.resultBackend, 'TASKQUEUE_RESULT_BACKEND');
  } catch (err) {
    process.stderr.write(`Worker could not start: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(WorkerModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
  });
  await app.listen();
}

// A worker that cannot start (refused credentials, missing ACL rights, broker gone for good) has
// already logged why in one line: exit non-zero without a stack trace.
bootstrap().catch((err: Error) => {
  if (!(err instanceof TaskQueueError)) process.stderr.write(`${err?.stack ?? String(err)}\n`);
  process.exit(1);
});
