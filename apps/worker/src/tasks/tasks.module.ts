import { Module } from '@nestjs/common';
import { ArithmeticService } from './arithmetic.service';
import { MathTasks } from './math.tasks';
import { DemoTasks } from './demo.tasks';

@Module({
  providers: [ArithmeticService, MathTasks, DemoTasks],
})
export class TasksModule {}
