import { Module } from '@nestjs/common';
import { TaskQueueHealthModule } from 'nestjs-celery/health';
import { AppModule } from './app.module.js';
import { HealthController } from './health.controller.js';

/** The api process: the app plus a terminus health endpoint (not in the worker, nor in the Nest 10 app). */
@Module({
  imports: [AppModule, TaskQueueHealthModule],
  controllers: [HealthController],
})
export class ApiModule {}
