import { NestFactory } from '@nestjs/core';
import { ApiModule } from './api.module';

/** The example producer: an HTTP app that enqueues tasks. It never consumes: run apps/worker for that. */
async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(ApiModule);
  app.enableShutdownHooks();
  const port = Number(process.env.PORT ?? 3000);
  await app.listen(port, '127.0.0.1');
  console.log(`api listening on http://127.0.0.1:${port}`);
}

void bootstrap();
