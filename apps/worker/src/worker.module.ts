import { Module } from '@nestjs/common';
import { TaskQueueModule, optionsFromEnv } from 'nestjs-celery';
import { TasksModule } from './tasks/tasks.module';

@Module({
  imports: [TaskQueueModule.forRoot({ ...optionsFromEnv(), isGlobal: true }), TasksModule],
})
export class WorkerModule {}
