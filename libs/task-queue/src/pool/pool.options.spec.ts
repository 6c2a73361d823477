import { availableParallelism } from 'node:os';
import { resolvePoolOptions, resolveOptions } from '../options/resolve-options';
import { poolOptionsFromEnv } from './pool.env';

describe('pool options', () => {
  it('defaults to a process pool of one worker per CPU, no recycling, 300 s idle timeout', () => {
    expect(resolvePoolOptions({})).toEqual({
      pool: 'processes',
      poolSize: availableParallelism(),
      maxTasksPerChild: 0,
      maxMemoryPerChild: 0,
      maxHeapPerChild: 0,
      poolIdleTimeout: 300,
      poolModule: '',
    });
    expect(resolveOptions({ worker: { pool: 'threads', poolSize: 3 } }).worker).toMatchObject({
      pool: 'threads',
      poolSize: 3,
    });
  });

  it('refuses a bad kind, size or limit with a message naming the option', () => {
    expect(() => resolvePoolOptions({ pool: 'fork' as never })).toThrow(
      /worker\.pool must be 'threads' or 'processes'/,
    );
    expect(() => resolvePoolOptions({ poolSize: 0 })).toThrow(/worker\.poolSize/);
    expect(() => resolvePoolOptions({ maxMemoryPerChild: -1 })).toThrow(/worker\.maxMemoryPerChild/);
  });

  it('reads TASKQUEUE_POOL* variables', () => {
    expect(
      poolOptionsFromEnv({
        TASKQUEUE_POOL: 'threads',
        TASKQUEUE_POOL_SIZE: '2',
        TASKQUEUE_MAX_TASKS_PER_CHILD: '10',
        TASKQUEUE_MAX_MEMORY_PER_CHILD: '200000',
      }),
    ).toMatchObject({
      pool: 'threads',
      poolSize: 2,
      maxTasksPerChild: 10,
      maxMemoryPerChild: 200000,
    });
  });
});
