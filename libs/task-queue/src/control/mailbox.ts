import { Logger } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import {
  PIDBOX_EXCHANGE,
  REPLY_EXCHANGE,
  buildControlReply,
  isAddressedTo,
  mailboxQueue,
  parseControlRequest,
} from '../protocol/control-message';
import { TaskMessage } from '../protocol/task-message';
import { LamportClock } from '../events/lamport.clock';
import { WorkerControl } from './worker-control';

/**
 * The worker's pidbox: listens to `celery.pidbox` through `<hostname>.celery.pidbox`, runs the
 * commands addressed to this node, and replies to `reply.celery.pidbox` when a reply is asked for.
 * A bad command is logged and answered with `{error}`; it never disturbs the worker.
 */
export class Mailbox {
  private readonly logger = new Logger('TaskQueueControl');
  private stop: (() => Promise<void>) | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly hostname: string,
    private readonly control: WorkerControl,
    private readonly clock: LamportClock,
  ) {}

  async start(): Promise<boolean> {
    if (!this.broker.listen || !this.broker.publishToExchange) return false;
    this.stop = await this.broker.listen(PIDBOX_EXCHANGE, mailboxQueue(this.hostname), (m) => void this.onMessage(m));
    return true;
  }

  async close(): Promise<void> {
    await this.stop?.();
    this.stop = null;
  }

  private async onMessage(message: TaskMessage): Promise<void> {
    let parsed: ReturnType<typeof parseControlRequest>;
    try {
      parsed = parseControlRequest(message);
    } catch (err) {
      this.logger.warn(`Ignoring a control message that is not JSON: ${(err as Error).message}`);
      return;
    }
    if (!parsed) return;
    const { request, expires, clock } = parsed;
    this.clock.adjust(clock);
    if (expires !== null && expires * 1000 < Date.now()) return;
    if (!isAddressedTo(request, this.hostname)) return;
    const result = await this.control.handle(request.method, request.arguments);
    if (!request.ticket || !request.reply_to) return;
    const reply = buildControlReply(this.hostname, result, request.ticket, this.clock.forward());
    try {
      await this.broker.publishToExchange!(
        { ...REPLY_EXCHANGE, name: request.reply_to.exchange || REPLY_EXCHANGE.name },
        request.reply_to.routing_key,
        reply,
      );
    } catch (err) {
      this.logger.warn(`Could not reply to ${request.method}: ${(err as Error).message}`);
    }
  }
}
