import { Broker } from '../brokers/broker.interface';
import { ResultBackend } from '../backends/result-backend.interface';
import { TaskControl } from '../control/task-control';
import { HEALTH_DEFAULTS } from '../options/task-queue.defaults';
import { maskUrlsIn } from '../transports/url-mask';
import { BacklogCheckOptions, ReachableCheckOptions, WorkersCheckOptions } from './health.options';

/** One check's outcome: `up` and what was measured, or down with a message that carries no secret. */
export interface ProbeOutcome {
  up: boolean;
  data: Record<string, unknown>;
}

/** The result key every backend check reads: nothing is ever stored under it, so the answer is "pending". */
const PROBE_TASK_ID = 'taskq-health-probe';

/**
 * The checks behind the terminus indicator and the dashboard's `/healthz`, without terminus: broker and
 * backend answer a round trip in time, enough workers consume a queue (their `active_queues` replies,
 * as `taskq queues` reads them), a queue's backlog is under a bound. Each returns an outcome and never
 * throws; a down outcome says why, with any URL password masked.
 */
export class TaskQueueProbe {
  constructor(
    private readonly broker: Broker,
    private readonly backend: ResultBackend,
    private readonly control: TaskControl,
    private readonly defaultQueue: string,
  ) {}

  /** The broker answers a read of the default queue's length. */
  checkBroker(o: ReachableCheckOptions = {}): Promise<ProbeOutcome> {
    const data = { transport: this.broker.transport };
    return outcome(data, o.timeoutMs, 'broker', async () => {
      await this.broker.queueLength(this.defaultQueue);
      return data;
    });
  }

  /** The result backend answers a read of a result. */
  checkBackend(o: ReachableCheckOptions = {}): Promise<ProbeOutcome> {
    const data = { backend: this.backend.name };
    return outcome(data, o.timeoutMs, 'result backend', async () => {
      await this.backend.get(PROBE_TASK_ID);
      return data;
    });
  }

  /** At least `min` workers reply that they consume the queue. */
  async checkWorkers(o: WorkersCheckOptions = {}): Promise<ProbeOutcome> {
    const queue = o.queue ?? this.defaultQueue;
    const min = o.min ?? HEALTH_DEFAULTS.minWorkers;
    const timeout = o.timeout ?? HEALTH_DEFAULTS.workersTimeout;
    // The broadcast itself is bounded by `timeout`; the extra second covers publishing it to a slow broker.
    const res = await outcome({ queue, min }, timeout * 1000 + 1000, 'broker', async () => {
      const replies = await this.control.inspect('active_queues', {}, { timeout });
      const workers: string[] = [];
      for (const reply of replies)
        for (const [host, queues] of Object.entries(reply))
          if (Array.isArray(queues) && queues.some((q) => (q as { name?: unknown })?.name === queue))
            workers.push(host);
      return { queue, min, workers: workers.sort() };
    });
    if (!res.up) return res;
    const found = (res.data.workers as string[]).length;
    return found >= min
      ? res
      : {
          up: false,
          data: { ...res.data, message: `${found} worker(s) consume queue "${queue}" (at least ${min} wanted)` },
        };
  }

  /** No more than `max` messages wait in the queue. */
  async checkBacklog(o: BacklogCheckOptions): Promise<ProbeOutcome> {
    const queue = o.queue ?? this.defaultQueue;
    const res = await outcome({ queue, max: o.max }, o.timeoutMs, 'broker', async () => ({
      queue,
      length: await this.broker.queueLength(queue),
      max: o.max,
    }));
    if (!res.up) return res;
    const length = res.data.length as number;
    return length <= o.max
      ? res
      : {
          up: false,
          data: { ...res.data, message: `${length} messages wait in queue "${queue}" (more than ${o.max})` },
        };
  }
}

/**
 * Runs `fn` within `timeoutMs` and turns a throw or a timeout into a down outcome. A late answer is
 * dropped (its rejection caught), so a broker that hangs costs a probe its timeout, never more.
 */
async function outcome(
  base: Record<string, unknown>,
  timeoutMs: number | undefined,
  what: string,
  fn: () => Promise<Record<string, unknown>>,
): Promise<ProbeOutcome> {
  const ms = timeoutMs ?? HEALTH_DEFAULTS.timeoutMs;
  let timer: NodeJS.Timeout | undefined;
  const run = fn();
  run.catch(() => undefined);
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return { up: true, data: await Promise.race([run, late]) };
  } catch (err) {
    return { up: false, data: { ...base, message: maskUrlsIn((err as Error).message ?? String(err)) } };
  } finally {
    clearTimeout(timer);
  }
}
