import { Injectable } from '@nestjs/common';
import { SharedTask } from 'nestjs-celery';

const wait = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** Tasks that fail and wait on purpose, and the seed's example task. */
@Injectable()
export class DemoTasks {
  @SharedTask('tasks.fail')
  fail(message: string): never {
    throw new Error(message);
  }

  @SharedTask('tasks.sleep')
  async sleep(seconds: number): Promise<number> {
    await wait(seconds);
    return seconds;
  }

  /** The seed's `my_task`: pretends to work for `duration` seconds. */
  @SharedTask('myapp.tasks.my_task')
  async myTask(duration: number): Promise<string> {
    await wait(duration);
    return `Task completed in ${duration} seconds!`;
  }
}
