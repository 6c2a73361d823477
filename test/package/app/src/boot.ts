import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { TaskClient, TaskQueueServer } from 'nestjs-celery';
import { AppModule } from './app.module.js';

/**
 * One process with the api and a worker (the module's `connectMicroservice` form, which every Nest
 * version has): boots, runs `pkg.add(2, 3)` through the broker and prints the result as JSON.
 */
async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'], abortOnError: false });
  app.connectMicroservice({ strategy: app.get(TaskQueueServer) });
  await app.startAllMicroservices();
  await app.init();
  const result = await app.get(TaskClient).sendTask<number>('pkg.add', [2, 3]);
  console.log(JSON.stringify({ result: await result.get({ timeout: 20_000 }) }));
  await app.close();
}

main().catch((err: Error) => {
  console.error(`boot failed: ${err.message}`);
  process.exit(1);
});
