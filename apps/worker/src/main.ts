import { NestFactory } from '@nestjs/core';
import { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { TaskQueueServer } from 'nestjs-celery';
import { WorkerModule } from './worker.module';

/**
 * The worker process: a Nest microservice whose transport strategy is TaskQueueServer.
 * Configure it with TASKQUEUE_BROKER_URL, TASKQUEUE_RESULT_BACKEND, TASKQUEUE_QUEUES, TASKQUEUE_CONCURRENCY.
 */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(WorkerModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
  });
  await app.listen();
}

void bootstrap();
