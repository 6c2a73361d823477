import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { TaskQueueServer } from 'nestjs-celery';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(AppModule, {
    inject: [TaskQueueServer],
    useFactory: (server: TaskQueueServer) => ({ strategy: server }),
  });
  await app.listen();
  console.log('worker ready');
}

bootstrap().catch((err: Error) => {
  console.error(`worker failed: ${err.message}`);
  process.exit(1);
});
