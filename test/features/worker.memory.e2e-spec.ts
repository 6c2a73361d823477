import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  OnTaskEvent,
  SharedTask,
  TaskFailedError,
  TaskQueueModule,
  TaskQueueServer,
  TaskState,
  TaskTimeoutError,
  defineTask,
  taskRef,
} from 'nestjs-celery';
import { memoryBusFor } from 'nestjs-celery/internal/brokers/memory/memory.bus';
import { TasksModule } from '../../apps/worker/src/tasks/tasks.module';
import { MathTasks } from '../../apps/worker/src/tasks/math.tasks';
import { RunningClient, RunningWorker, startClient, startWorker } from '../support/nest-apps';
import { uniqueName, waitFor } from '../support/wait';

const add = taskRef(MathTasks, 'add');
const xsum = taskRef(MathTasks, 'xsum');
const fail = defineTask<(message: string) => never>('tasks.fail');
const sleep = defineTask<(seconds: number) => number>('tasks.sleep');
const myTask = defineTask<(duration: number) => string>('myapp.tasks.my_task');

describe('worker microservice on the memory broker (end to end)', () => {
  const url = `memory://${uniqueName('worker')}`;
  let worker: RunningWorker;
  let producer: RunningClient;

  beforeAll(async () => {
    worker = await startWorker({ brokerUrl: url, worker: { concurrency: 4 } }, { imports: [TasksModule] });
    producer = await startClient({ brokerUrl: url });
  });
  afterAll(async () => {
    await producer.close();
    await worker.close();
  });

  it('runs tasks.add sent by typed reference from another app and returns x + y', async () => {
    const result = await producer.client.delay(add, 2, 3);
    await expect(result.get({ timeout: 5000 })).resolves.toBe(5);
    expect(await result.state()).toBe(TaskState.SUCCESS);
    expect(await result.successful()).toBe(true);
    expect(await result.dateDone()).toBeInstanceOf(Date);
  });

  it('maps Celery kwargs onto the method parameters by name', async () => {
    const result = await producer.client.sendTask<number>('tasks.add', [], { x: 10, y: 4 });
    await expect(result.get({ timeout: 5000 })).resolves.toBe(14);
    const mixed = await producer.client.applyAsync(add, [1] as unknown as [number, number], { y: 9 });
    await expect(mixed.get({ timeout: 5000 })).resolves.toBe(10);
  });

  it('fails a call with an unknown keyword like Python would, with a TypeError', async () => {
    const result = await producer.client.sendTask('tasks.add', [1], { z: 2 });
    await expect(result.get({ timeout: 5000 })).rejects.toMatchObject({
      excType: 'TypeError',
      excMessage: ["tasks.add() got an unexpected keyword argument 'z'"],
    });
  });

  it('runs tasks.mul, tasks.xsum and the seed task myapp.tasks.my_task', async () => {
    const [m, s, t] = await Promise.all([
      producer.client.sendTask('tasks.mul', [6, 7]),
      producer.client.delay(xsum, [1, 2, 3, 4]),
      producer.client.delay(myTask, 0.01),
    ]);
    expect(await m.get({ timeout: 5000 })).toBe(42);
    expect(await s.get({ timeout: 5000 })).toBe(10);
    expect(await t.get({ timeout: 5000 })).toBe('Task completed in 0.01 seconds!');
  });

  it('stores a failure in Celery meta and get() throws the remote type, message and traceback', async () => {
    const result = await producer.client.delay(fail, 'boom');
    const err: TaskFailedError = await result.get({ timeout: 5000 }).then(
      () => {
        throw new Error('expected a failure');
      },
      (e: TaskFailedError) => e,
    );
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.excType).toBe('Error');
    expect(err.excMessage).toEqual(['boom']);
    expect(err.traceback).toContain('DemoTasks.fail');
    expect(await result.state()).toBe(TaskState.FAILURE);
    expect(await result.failed()).toBe(true);
    expect(await result.info()).toEqual({ exc_type: 'Error', exc_message: ['boom'], exc_module: 'nodejs' });
    await expect(result.get({ propagate: false })).resolves.toEqual({
      exc_type: 'Error',
      exc_message: ['boom'],
      exc_module: 'nodejs',
    });
  });

  it('throws a distinct timeout error when the result is not ready in time, and PENDING reads as such', async () => {
    const result = await producer.client.delay(sleep, 0.5);
    const err = await result.get({ timeout: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskTimeoutError);
    expect((err as TaskTimeoutError).message).toMatch(/not ready after 20 ms/);
    await expect(result.get({ timeout: 5000 })).resolves.toBe(0.5);
    expect(await producer.client.asyncResult('no-such-id').state()).toBe(TaskState.PENDING);
  });

  it('forgets a stored result', async () => {
    const result = await producer.client.delay(add, 1, 1);
    await result.get({ timeout: 5000 });
    await result.forget();
    expect(await result.state()).toBe(TaskState.PENDING);
  });

  it('refuses arguments that JSON cannot carry, at the call, and publishes nothing', async () => {
    const queue = uniqueName('never-consumed');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const bad of [[10n], [() => 1], [Symbol('x')], [circular], [NaN], [Infinity]]) {
      await expect(producer.client.sendTask('tasks.add', bad, {}, { queue })).rejects.toThrow(
        /Cannot send the arguments of task tasks\.add/,
      );
    }
    expect(await producer.broker.queueLength(queue)).toBe(0);
  });
});

describe('worker options on the memory broker', () => {
  it('never runs more than `concurrency` tasks at once, and reserves no more than the prefetch bound', async () => {
    const url = `memory://${uniqueName('conc')}`;
    const probe = { running: 0, max: 0 };
    @Injectable()
    class ProbeTasks {
      @SharedTask('probe.work')
      async work(): Promise<number> {
        probe.running++;
        probe.max = Math.max(probe.max, probe.running);
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setTimeout(r, 5));
        probe.running--;
        return probe.max;
      }
    }
    const worker = await startWorker(
      { brokerUrl: url, worker: { concurrency: 3, prefetchMultiplier: 2 } },
      { providers: [ProbeTasks] },
    );
    const producer = await startClient({ brokerUrl: url });
    const results = await Promise.all(Array.from({ length: 30 }, () => producer.client.sendTask('probe.work')));
    await Promise.all(results.map((r) => r.get({ timeout: 10_000 })));
    expect(probe.max).toBe(3);
    await producer.close();
    await worker.close();
  });

  it('frees a concurrency slot when the method returns: a slow onSuccess hook does not block the next task (unless acksLate is off)', async () => {
    for (const acksLate of [true, false]) {
      const url = `memory://${uniqueName('slot')}`;
      let release!: () => void;
      const hookGate = new Promise<void>((r) => (release = r));
      let hookStarted = false;
      @Injectable()
      class HookTasks {
        @SharedTask({
          name: 'slot.first',
          acksLate,
          onSuccess: async () => {
            hookStarted = true;
            await hookGate;
          },
        })
        first(): string {
          return 'first';
        }

        @SharedTask({ name: 'slot.second', acksLate })
        second(): string {
          return 'second';
        }
      }
      const worker = await startWorker(
        { brokerUrl: url, worker: { concurrency: 1, prefetchMultiplier: 4 } },
        { providers: [HookTasks] },
      );
      const producer = await startClient({ brokerUrl: url });
      const first = await producer.client.sendTask<string>('slot.first');
      await waitFor(() => hookStarted, 'the onSuccess hook of slot.first to start');
      // The state is stored before the hook runs.
      expect(await first.get({ timeout: 5000 })).toBe('first');
      const second = await producer.client.sendTask<string>('slot.second');
      if (acksLate) {
        expect(await second.get({ timeout: 5000 })).toBe('second');
      } else {
        // Acked on receipt, nothing else bounds the work in flight: the slot is held to the end.
        await expect(second.get({ timeout: 300 })).rejects.toBeInstanceOf(TaskTimeoutError);
      }
      release();
      expect(await second.get({ timeout: 5000 })).toBe('second');
      await producer.close();
      await worker.close();
    }
  });

  it('works when the microservice is init()ed before listen() (Nest 11 runs the init hooks twice then)', async () => {
    const url = `memory://${uniqueName('init')}`;
    let succeeded = 0;
    @Injectable()
    class InitTasks {
      @SharedTask('init.twice')
      twice(x: number): number {
        return x * 2;
      }

      @OnTaskEvent('succeeded')
      onSucceeded(): void {
        succeeded++;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ brokerUrl: url, worker: { handleSignals: false } })],
      providers: [InitTasks],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(TaskQueueServer) });
    app.useLogger(false);
    await app.init();
    await app.listen();
    const producer = await startClient({ brokerUrl: url });
    const result = await producer.client.sendTask<number>('init.twice', [21]);
    expect(await result.get({ timeout: 5000 })).toBe(42);
    await waitFor(() => succeeded >= 1, 'the succeeded event');
    expect(succeeded).toBe(1);
    await producer.close();
    await app.close();
  });

  it('stores STARTED with pid and hostname when trackStarted is on', async () => {
    const url = `memory://${uniqueName('started')}`;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    @Injectable()
    class GateTasks {
      @SharedTask({ name: 'gate.wait', trackStarted: true })
      async wait(): Promise<string> {
        await gate;
        return 'done';
      }
    }
    const worker = await startWorker({ brokerUrl: url, worker: { hostname: 'w1@test' } }, { providers: [GateTasks] });
    const producer = await startClient({ brokerUrl: url });
    const result = await producer.client.sendTask('gate.wait');
    await waitFor(async () => (await result.state()) === TaskState.STARTED, 'STARTED');
    expect(await result.info()).toEqual({ pid: process.pid, hostname: 'w1@test' });
    release();
    expect(await result.get({ timeout: 5000 })).toBe('done');
    await producer.close();
    await worker.close();
  });

  it('does not store results of an ignoreResult task', async () => {
    const url = `memory://${uniqueName('ignore')}`;
    const ran: string[] = [];
    @Injectable()
    class QuietTasks {
      @SharedTask({ name: 'quiet.run', ignoreResult: true })
      run(tag: string): string {
        ran.push(tag);
        return tag;
      }
    }
    const worker = await startWorker({ brokerUrl: url }, { providers: [QuietTasks] });
    const producer = await startClient({ brokerUrl: url });
    const result = await producer.client.sendTask('quiet.run', ['a']);
    await waitFor(() => ran.includes('a'), 'the quiet task to run');
    expect(await result.state()).toBe(TaskState.PENDING);
    await producer.close();
    await worker.close();
  });

  it('a producer app that imports the module but is not the microservice never consumes', async () => {
    const url = `memory://${uniqueName('producer-only')}`;
    const producer = await startClient({ brokerUrl: url }, [TasksModule]);
    await producer.client.delay(add, 1, 2);
    await new Promise((r) => setImmediate(r));
    expect(await producer.broker.queueLength('celery')).toBe(1);
    await producer.close();
  });

  it('consumes only its own queues and routes by the queue option', async () => {
    const url = `memory://${uniqueName('queues')}`;
    const worker = await startWorker({ brokerUrl: url, worker: { queues: ['math'] } }, { imports: [TasksModule] });
    const producer = await startClient({ brokerUrl: url });
    const routed = await producer.client.applyAsync(add, [2, 2], {}, { queue: 'math' });
    expect(await routed.get({ timeout: 5000 })).toBe(4);
    await producer.client.delay(add, 1, 1);
    expect(await producer.broker.queueLength('celery')).toBe(1);
    await producer.close();
    await worker.close();
  });

  it('warm shutdown finishes running tasks and gives back the prefetched ones', async () => {
    const url = `memory://${uniqueName('warm')}`;
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    @Injectable()
    class SlowTasks {
      @SharedTask('slow.run')
      async run(n: number): Promise<number> {
        started++;
        await gate;
        return n;
      }
    }
    const worker = await startWorker(
      { brokerUrl: url, worker: { concurrency: 1, prefetchMultiplier: 4, shutdownTimeout: 10 } },
      { providers: [SlowTasks] },
    );
    const producer = await startClient({ brokerUrl: url });
    const results = await Promise.all([1, 2, 3, 4].map((n) => producer.client.sendTask('slow.run', [n])));
    await waitFor(() => started === 1, 'the first task to start');
    const closing = worker.close();
    release();
    await closing;
    expect(await results[0].get({ timeout: 1000 })).toBe(1);
    expect(started).toBe(1);
    expect(await producer.broker.queueLength('celery')).toBe(3);
    const next = await startWorker({ brokerUrl: url }, { providers: [SlowTasks] });
    expect(await Promise.all(results.slice(1).map((r) => r.get({ timeout: 5000 })))).toEqual([2, 3, 4]);
    await next.close();
    await producer.close();
  });
});

describe('bad messages on the memory broker', () => {
  const url = `memory://${uniqueName('bad')}`;
  const queue = 'celery';
  let worker: RunningWorker;
  let producer: RunningClient;
  const bus = memoryBusFor(url);

  beforeAll(async () => {
    worker = await startWorker({ brokerUrl: url }, { imports: [TasksModule] });
    producer = await startClient({ brokerUrl: url });
  });
  afterAll(async () => {
    await producer.close();
    await worker.close();
  });

  function envelope(overrides: { headers?: Record<string, unknown>; body?: string; contentType?: string }): string {
    const id = (overrides.headers?.id as string) ?? uniqueName('id');
    return JSON.stringify({
      body: Buffer.from(overrides.body ?? '[[1, 2], {}, {}]').toString('base64'),
      'content-encoding': 'utf-8',
      'content-type': overrides.contentType ?? 'application/json',
      headers: { task: 'tasks.add', id, ...overrides.headers },
      properties: {
        correlation_id: id,
        delivery_info: { exchange: '', routing_key: queue },
        body_encoding: 'base64',
        delivery_tag: id,
        priority: 0,
      },
    });
  }

  async function expectDeadLettered(raw: string, reason: RegExp): Promise<void> {
    const before = (await worker.broker.readDeadLetters(queue)).length;
    bus.push(queue, raw);
    const letters = await waitFor(async () => {
      const all = await worker.broker.readDeadLetters(queue);
      return all.length > before ? all : null;
    }, 'the message to be dead-lettered');
    expect(letters[0].reason).toMatch(reason);
    // The worker goes on: a good task right after still runs.
    expect(await (await producer.client.sendTask('tasks.add', [1, 1])).get({ timeout: 5000 })).toBe(2);
  }

  it('an unknown task name is stored as FAILURE NotRegistered and dead-lettered', async () => {
    const id = uniqueName('unknown');
    await expectDeadLettered(envelope({ headers: { task: 'tasks.nope', id } }), /NotRegistered/);
    const meta = await producer.client.asyncResult(id).meta();
    expect(meta.status).toBe('FAILURE');
    expect(meta.result).toEqual({
      exc_type: 'NotRegistered',
      exc_message: ['tasks.nope'],
      exc_module: 'celery.exceptions',
    });
  });

  it('a body that is not [args, kwargs, embed] is dead-lettered', async () => {
    await expectDeadLettered(envelope({ body: '[[1, 2], {}]' }), /\[args, kwargs, embed\]/);
  });

  it('an unsupported content type is dead-lettered', async () => {
    await expectDeadLettered(
      envelope({ contentType: 'application/x-python-serialize' }),
      /content type "application\/x-python-serialize"/,
    );
  });

  it('invalid JSON is dead-lettered, and a raw item that is no envelope at all too', async () => {
    await expectDeadLettered(envelope({ body: '[[1, 2], {}, {' }), /not valid JSON/);
    await expectDeadLettered('this is not an envelope', /not JSON/);
  });

  it('keeps the dead-lettered message intact for inspection', async () => {
    const id = uniqueName('kept');
    await expectDeadLettered(envelope({ headers: { task: 'tasks.missing', id } }), /NotRegistered/);
    const [letter] = await worker.broker.readDeadLetters(queue, 1);
    expect(letter.message.headers.id).toBe(id);
    expect(letter.message.body.toString()).toBe('[[1, 2], {}, {}]');
  });
});
