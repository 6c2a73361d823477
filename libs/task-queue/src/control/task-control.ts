import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Broker } from '../brokers/broker.interface';
import { ConfigurationError } from '../errors';
import {
  PIDBOX_EXCHANGE,
  REPLY_EXCHANGE,
  buildControlRequest,
  parseControlReply,
  replyQueue,
} from '../protocol/control-message';
import { TASK_QUEUE_BROKER } from '../task-queue.constants';

export interface BroadcastOptions {
  /** Node names that must act; default all. */
  destination?: string[];
  /** Wait for replies. Default false. */
  reply?: boolean;
  /** Seconds to collect replies (and how long the request stays valid). Default 1, as Celery's CLI. */
  timeout?: number;
  /** Stop collecting after this many replies. */
  limit?: number;
}

/**
 * Celery's `app.control`: broadcasts remote-control commands that Python workers and ours both obey.
 * `revoke` reaches every worker on the broker; `ping`/`inspect` collect the replies of live workers.
 */
@Injectable()
export class TaskControl {
  /** This process's reply routing key (Celery's `oid`). */
  private readonly oid = randomUUID();

  constructor(@Inject(TASK_QUEUE_BROKER) private readonly broker: Broker) {}

  /**
   * Revokes tasks everywhere: a worker will not start them; with `terminate`, a worker running one
   * aborts it (our workers abort its signal; Python's prefork workers kill the process).
   */
  async revoke(taskIds: string | string[], options: { terminate?: boolean; signal?: string } = {}): Promise<void> {
    const ids = Array.isArray(taskIds) ? taskIds : [taskIds];
    await this.broadcast('revoke', {
      task_id: ids.length === 1 ? ids[0] : ids,
      terminate: options.terminate ?? false,
      signal: options.signal ?? 'SIGTERM',
    });
  }

  /** `{ "<node>": { ok: "pong" } }` for every worker that answers within the timeout. */
  async ping(options: Omit<BroadcastOptions, 'reply'> = {}): Promise<Array<Record<string, unknown>>> {
    return this.broadcast('ping', {}, { ...options, reply: true });
  }

  /** Any inspect command (`active`, `reserved`, `scheduled`, `revoked`, `registered`, `stats`, `active_queues`, `query_task`, `conf`). */
  async inspect(
    method: string,
    args: Record<string, unknown> = {},
    options: Omit<BroadcastOptions, 'reply'> = {},
  ): Promise<Array<Record<string, unknown>>> {
    return this.broadcast(method, args, { ...options, reply: true });
  }

  /** Sends a command; with `reply`, resolves to the replies received within `timeout` seconds. */
  async broadcast(
    method: string,
    args: Record<string, unknown>,
    options: BroadcastOptions = {},
  ): Promise<Array<Record<string, unknown>>> {
    const broker = this.broker;
    if (!broker.publishToExchange || !broker.listen) {
      throw new ConfigurationError(
        `The ${broker.transport} broker has no exchanges, so remote control is not available on it.`,
      );
    }
    const timeout = options.timeout ?? 1;
    if (!options.reply) {
      await broker.publishToExchange(
        PIDBOX_EXCHANGE,
        '',
        buildControlRequest(method, args, { destination: options.destination, timeout }).message,
      );
      return [];
    }
    const replies: Array<Record<string, unknown>> = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    let ticket: string | null = null;
    const stop = await broker.listen(REPLY_EXCHANGE, replyQueue(this.oid), (msg) => {
      const reply = parseControlReply(msg);
      if (reply.ticket !== ticket) return;
      replies.push(reply.replies);
      if (options.limit && replies.length >= options.limit) done();
      else if (options.destination && replies.length >= options.destination.length) done();
    });
    try {
      const request = buildControlRequest(method, args, {
        destination: options.destination,
        timeout,
        replyTo: this.oid,
      });
      ticket = request.ticket;
      await broker.publishToExchange(PIDBOX_EXCHANGE, '', request.message);
      const timer = setTimeout(done, timeout * 1000);
      await finished;
      clearTimeout(timer);
    } finally {
      await stop();
    }
    return replies;
  }
}
