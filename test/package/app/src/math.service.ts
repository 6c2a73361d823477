import { Injectable } from '@nestjs/common';

/** An ordinary provider, injected into the task class to prove tasks get full DI. */
@Injectable()
export class MathService {
  add(x: number, y: number): number {
    return x + y;
  }
}
