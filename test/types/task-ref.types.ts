/**
 * Type test, checked by `tsc --noEmit` (part of `npm test`): a typed task reference type-checks its
 * arguments and types its result. Each @ts-expect-error line MUST be an error, or tsc fails.
 */
import { AsyncResult, TaskClient, defineTask, taskRef } from 'nestjs-celery';
import { MathTasks } from '../../apps/worker/src/tasks/math.tasks';

declare const client: TaskClient;
const add = taskRef(MathTasks, 'add');
const pyConcat = defineTask<(a: string, b: string) => string>('py.concat');

export async function typeTests(): Promise<void> {
  const r: AsyncResult<number> = await client.delay(add, 2, 3);
  const n: number = await r.get();
  void n;

  // @ts-expect-error a string where the task takes a number
  await client.delay(add, '2', 3);
  // @ts-expect-error too few arguments
  await client.delay(add, 2);
  // @ts-expect-error the result is a number, not a string
  const s: string = await (await client.delay(add, 1, 2)).get();
  void s;

  await client.applyAsync(add, [1, 2], {}, { countdown: 10, queue: 'math' });
  // @ts-expect-error applyAsync checks the args tuple too
  await client.applyAsync(add, [1, 'x']);

  const bound = client.task(MathTasks, 'xsum');
  const total: number = await (await bound.delay([1, 2, 3])).get();
  void total;
  // @ts-expect-error xsum takes an array of numbers
  await bound.delay(1, 2, 3);
  // @ts-expect-error not a method of MathTasks
  client.task(MathTasks, 'nope');

  const joined: string = await (await client.delay(pyConcat, 'a', 'b')).get();
  void joined;
  // @ts-expect-error a typed-by-name task checks its arguments as well
  await client.delay(pyConcat, 'a', 1);

  // delayMany checks every argument tuple and types every result.
  const many: AsyncResult<number>[] = await client.delayMany(add, [
    [1, 2],
    [3, 4],
  ]);
  void many;
  // prettier-ignore
  // @ts-expect-error one tuple has a string where add takes a number
  await client.delayMany(add, [[1, 2], ['3', 4]]);

  // By name, untyped: anything goes, and the result type is what you say.
  const anything = await client.sendTask<{ ok: boolean }>('other.service.task', [1, 'two'], { three: 3 });
  const ok: boolean = (await anything.get()).ok;
  void ok;
}
