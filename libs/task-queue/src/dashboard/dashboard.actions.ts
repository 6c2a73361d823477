import { BadRequestException, NotFoundException } from '@nestjs/common';
import { Broker, deadLetterQueueOf } from '../brokers/broker.interface';
import { TaskClient } from '../client/task.client';
import { TaskMonitor } from '../monitor/task-monitor.service';
import { parsePyLiteral } from '../monitor/py-literal.parser';
import { maskSecrets } from './dashboard-session';
import { PeriodicEntriesReader } from './periodic-entries.reader';

/** What an action answers: a line for the page, and the workers' replies when it sent a control command. */
export interface ActionResult {
  ok: boolean;
  message: string;
  replies?: Array<Record<string, unknown>>;
}

type Body = Record<string, unknown>;

/** Celery control commands a button sends to one worker, with the arguments it takes. */
const WORKER_COMMANDS: Record<string, (b: Body) => Record<string, unknown>> = {
  add_consumer: (b) => ({ queue: str(b, 'queue') }),
  cancel_consumer: (b) => ({ queue: str(b, 'queue') }),
  pool_grow: (b) => ({ n: num(b, 'n', 1) }),
  pool_shrink: (b) => ({ n: num(b, 'n', 1) }),
  shutdown: () => ({}),
};

/**
 * The dashboard's actions. Task-level ones broadcast to every worker (revoke, rate/time limits);
 * worker-level ones go to the one worker named (Celery's `destination`). Replies are shown as sent.
 */
export class DashboardActions {
  constructor(
    private readonly broker: Broker,
    private readonly client: TaskClient,
    private readonly monitor: TaskMonitor,
    private readonly periodic: PeriodicEntriesReader,
  ) {}

  async run(name: string, b: Body): Promise<ActionResult> {
    try {
      return await this.dispatch(name, b);
    } catch (err) {
      if (err instanceof BadRequestException || err instanceof NotFoundException) throw err;
      return { ok: false, message: maskSecrets((err as Error).message) };
    }
  }

  private async dispatch(name: string, b: Body): Promise<ActionResult> {
    switch (name) {
      case 'revoke':
      case 'terminate': {
        const id = str(b, 'taskId');
        const terminate = name === 'terminate' || b.terminate === true;
        const replies = await this.monitor.withControl((c) =>
          c.broadcast('revoke', { task_id: id, terminate, signal: 'SIGTERM' }, { reply: true, timeout: 1 }),
        );
        return { ok: true, message: `${terminate ? 'Terminate' : 'Revoke'} sent for ${id}.`, replies };
      }
      case 'retry':
        return this.retry(str(b, 'taskId'), typeof b.queue === 'string' && b.queue ? b.queue : undefined);
      case 'purge': {
        const queue = str(b, 'queue');
        const n = await this.broker.purge(queue);
        await this.monitor.refreshQueues();
        return { ok: true, message: `Purged ${n} message${n === 1 ? '' : 's'} from ${queue}.` };
      }
      case 'requeue_dead_letter':
      case 'delete_dead_letter':
        return this.deadLetter(str(b, 'queue'), str(b, 'taskId'), name === 'requeue_dead_letter');
      case 'rate_limit': {
        const task = str(b, 'taskName');
        const replies = await this.monitor.withControl((c) =>
          c.broadcast(
            'rate_limit',
            { task_name: task, rate_limit: str(b, 'rateLimit') },
            { reply: true, timeout: 1, destination: dest(b) },
          ),
        );
        return { ok: true, message: `Rate limit of ${task} sent.`, replies };
      }
      case 'time_limit': {
        const task = str(b, 'taskName');
        const replies = await this.monitor.withControl((c) =>
          c.broadcast(
            'time_limit',
            { task_name: task, soft: optNum(b.soft), hard: optNum(b.hard) },
            { reply: true, timeout: 1, destination: dest(b) },
          ),
        );
        return { ok: true, message: `Time limits of ${task} sent.`, replies };
      }
      case 'pause_periodic':
      case 'resume_periodic': {
        const entry = str(b, 'name');
        const found = await this.periodic.setPaused(entry, name === 'pause_periodic');
        if (!found) throw new NotFoundException(`No periodic entry "${entry}".`);
        return { ok: true, message: `${entry} ${name === 'pause_periodic' ? 'paused' : 'resumed'}.` };
      }
      default: {
        const args = WORKER_COMMANDS[name];
        if (!args) throw new NotFoundException(`No action "${name}".`);
        const worker = str(b, 'worker');
        const replies = await this.monitor.withControl((c) =>
          c.broadcast(name, args(b), { reply: true, timeout: name === 'shutdown' ? 0.5 : 1, destination: [worker] }),
        );
        return { ok: true, message: `${name} sent to ${worker}.`, replies };
      }
    }
  }

  /**
   * Sends a new message for a finished task, with the same name and arguments (a new id: it is a new
   * run), to the queue given, else the one it was sent to when known, else the only queue of the
   * worker that ran it, else the default queue.
   */
  private async retry(id: string, queue?: string): Promise<ActionResult> {
    const r = await this.monitor.task(id);
    if (!r?.name) throw new NotFoundException(`Task ${id} is not in the history (or its name is unknown).`);
    const args = r.args ? parsePyLiteral(r.args) : [];
    const kwargs = r.kwargs ? parsePyLiteral(r.kwargs) : {};
    if (!Array.isArray(args) || !kwargs || typeof kwargs !== 'object')
      throw new BadRequestException(`The arguments of ${id} cannot be read back.`);
    const workerQueues = r.worker ? (this.monitor.tracker.get(r.worker)?.queues ?? []) : [];
    const to = queue ?? r.queue ?? (workerQueues.length === 1 ? workerQueues[0] : undefined);
    const result = await this.client.sendTask(r.name, args, kwargs as Record<string, unknown>, { queue: to });
    return { ok: true, message: `Sent ${r.name} again${to ? ` to ${to}` : ''} as ${result.id}.` };
  }

  private async deadLetter(queue: string, taskId: string, requeue: boolean): Promise<ActionResult> {
    const letters = await this.broker.readDeadLetters(queue, 1000);
    const letter = letters.find((l) => l.message.headers.id === taskId);
    if (!letter) throw new NotFoundException(`No dead letter of task ${taskId} in ${deadLetterQueueOf(queue)}.`);
    const removed = await this.monitor.removeDeadLetter(queue, taskId);
    if (!removed)
      throw new BadRequestException(
        `Removing dead letters is supported on Redis only; on RabbitMQ use the management UI or shovel ${deadLetterQueueOf(queue)}.`,
      );
    if (requeue) await this.broker.publish(queue, letter.message);
    await this.monitor.refreshQueues();
    return { ok: true, message: requeue ? `Task ${taskId} is back on ${queue}.` : `Dead letter of ${taskId} deleted.` };
  }
}

function str(b: Body, k: string): string {
  const v = b[k];
  if (typeof v !== 'string' || !v) throw new BadRequestException(`"${k}" is required (a string).`);
  return v;
}

function num(b: Body, k: string, d: number): number {
  const v = b[k] === undefined ? d : Number(b[k]);
  if (!Number.isInteger(v) || v < 1) throw new BadRequestException(`"${k}" must be a whole number >= 1.`);
  return v;
}

function optNum(v: unknown): number | null {
  return v === undefined || v === null || v === '' ? null : Number(v);
}

function dest(b: Body): string[] | undefined {
  return typeof b.worker === 'string' && b.worker ? [b.worker] : undefined;
}
