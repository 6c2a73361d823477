import { Module } from '@nestjs/common';
import { ArithmeticService } from './arithmetic.service';
import { MathTasks } from './math.tasks';
import { DemoTasks } from './demo.tasks';
import { CpuTasks } from './cpu.tasks';

@Module({
  providers: [ArithmeticService, MathTasks, DemoTasks, CpuTasks],
})
export class TasksModule {}
