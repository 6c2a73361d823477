import { Injectable } from '@nestjs/common';

/** An ordinary provider that the tasks depend on: tasks get full dependency injection. */
@Injectable()
export class ArithmeticService {
  add(x: number, y: number): number {
    return x + y;
  }

  multiply(x: number, y: number): number {
    return x * y;
  }
}
