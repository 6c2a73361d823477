import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ApiModule } from './api.module.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(ApiModule);
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  console.log(`api listening on ${await app.getUrl()}`);
}

bootstrap().catch((err: Error) => {
  console.error(`api failed: ${err.message}`);
  process.exit(1);
});
