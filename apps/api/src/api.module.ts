import { Module } from '@nestjs/common';
import { TaskQueueModule, optionsFromEnv } from 'nestjs-celery';
import { TasksController } from './tasks.controller';

@Module({
  imports: [TaskQueueModule.forRoot({ ...optionsFromEnv(), isGlobal: true })],
  controllers: [TasksController],
})
export class ApiModule {}
