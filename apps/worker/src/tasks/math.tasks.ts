import { Injectable } from '@nestjs/common';
import { SharedTask } from 'nestjs-celery';
import { ArithmeticService } from './arithmetic.service';

/** `tasks.add`, `tasks.mul`, `tasks.xsum`: the names Celery's own examples use (a contract: keep them). */
@Injectable()
export class MathTasks {
  constructor(private readonly arithmetic: ArithmeticService) {}

  @SharedTask('tasks.add')
  add(x: number, y: number): number {
    return this.arithmetic.add(x, y);
  }

  @SharedTask('tasks.mul')
  mul(x: number, y: number): number {
    return this.arithmetic.multiply(x, y);
  }

  @SharedTask('tasks.xsum')
  xsum(numbers: number[]): number {
    return numbers.reduce((sum, n) => this.arithmetic.add(sum, n), 0);
  }
}
