import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskControl } from '../control/task-control';
import { TaskQueueProbe } from './task-queue.probe';

/** Just the calls the probe makes; each test says what they answer. */
function probe(o: {
  queueLength?: (q: string) => Promise<number>;
  get?: () => Promise<null>;
  replies?: Array<Record<string, unknown>>;
}): TaskQueueProbe {
  const broker = { transport: 'redis', queueLength: o.queueLength ?? (async () => 0) } as unknown as Broker;
  const backend = { name: 'redis', get: o.get ?? (async () => null) } as unknown as ResultBackend;
  const control = { inspect: async () => o.replies ?? [] } as unknown as TaskControl;
  return new TaskQueueProbe(broker, backend, control, 'celery');
}

describe('TaskQueueProbe', () => {
  it('a broker that never answers is down after timeoutMs, saying so', async () => {
    const p = probe({ queueLength: () => new Promise<number>(() => undefined) });
    expect(await p.checkBroker({ timeoutMs: 20 })).toEqual({
      up: false,
      data: { transport: 'redis', message: 'the broker did not answer within 20 ms' },
    });
  });

  it('a failing backend is down with its message, URL password masked', async () => {
    const p = probe({
      get: async () => {
        throw new Error('Could not read: redis://user:pa55word@h:6379/0 is unreachable');
      },
    });
    const out = await p.checkBackend();
    expect(out.up).toBe(false);
    expect(String(out.data.message)).toContain('redis://user:***@h:6379/0');
    expect(JSON.stringify(out)).not.toContain('pa55word');
  });

  it('workers: counts the hosts whose active_queues list the queue (default: the default queue)', async () => {
    const replies = [
      { 'a@h': [{ name: 'celery' }, { name: 'other' }] },
      { 'b@h': [{ name: 'other' }] },
      { 'c@h': [{ name: 'celery' }] },
    ];
    expect(await probe({ replies }).checkWorkers({ min: 2 })).toEqual({
      up: true,
      data: { queue: 'celery', min: 2, workers: ['a@h', 'c@h'] },
    });
    const few = await probe({ replies }).checkWorkers({ queue: 'other', min: 3 });
    expect(few.up).toBe(false);
    expect(few.data).toMatchObject({
      workers: ['a@h', 'b@h'],
      message: '2 worker(s) consume queue "other" (at least 3 wanted)',
    });
  });

  it('backlog: up at the bound, down above it with the length', async () => {
    const p = probe({ queueLength: async () => 5 });
    expect((await p.checkBacklog({ queue: 'q', max: 5 })).up).toBe(true);
    expect(await p.checkBacklog({ queue: 'q', max: 4 })).toEqual({
      up: false,
      data: { queue: 'q', length: 5, max: 4, message: '5 messages wait in queue "q" (more than 4)' },
    });
  });
});
