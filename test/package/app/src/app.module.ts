import { Module } from '@nestjs/common';
import { TaskQueueModule, optionsFromEnv } from 'nestjs-celery';
import { MathService } from './math.service.js';
import { TasksController } from './tasks.controller.js';
import { TasksService } from './tasks.service.js';

@Module({
  imports: [TaskQueueModule.forRoot({ ...optionsFromEnv(), isGlobal: true })],
  providers: [MathService, TasksService],
  controllers: [TasksController],
})
export class AppModule {}
