import { Injectable } from '@nestjs/common';
import { SharedTask } from 'nestjs-celery';
import { MathService } from './math.service.js';

@Injectable()
export class TasksService {
  constructor(private readonly math: MathService) {}

  @SharedTask('pkg.add')
  add(x: number, y: number): number {
    return this.math.add(x, y);
  }

  @SharedTask('pkg.fail')
  fail(message: string): never {
    throw new Error(message);
  }
}
