import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import { ConfigurationError } from '../errors';
import { EVENT_EXCHANGE } from '../protocol/event-message';
import { CeleryEvent, eventsOf } from './celery-event';

/**
 * Receives every Celery event on the broker, as `celery events` does: its own queue on `celeryev`
 * bound with `#` (Redis: a PSUBSCRIBE on `/<db>.celeryev/*`; AMQP: an auto-delete queue on the topic
 * exchange, with Celery's 5 s message TTL and 60 s expiry so a dead monitor leaves nothing behind).
 */
export class EventReceiver {
  private readonly logger = new Logger('TaskQueueMonitor');
  private stopFn: (() => Promise<void>) | null = null;

  constructor(
    private readonly broker: Broker,
    private readonly onEvent: (e: CeleryEvent) => void,
  ) {}

  async start(): Promise<void> {
    if (this.stopFn) return;
    if (!this.broker.listen) {
      throw new ConfigurationError(
        `The ${this.broker.transport} broker has no exchanges, so Celery events cannot be received: use a Redis or RabbitMQ broker.`,
      );
    }
    this.stopFn = await this.broker.listen(
      EVENT_EXCHANGE,
      {
        name: `celeryev.${randomUUID()}`,
        bindingKey: '#',
        role: 'event',
        autoDelete: true,
        expiresMs: 60_000,
        messageTtlMs: 5_000,
      },
      (message) => {
        for (const e of eventsOf(message)) {
          try {
            this.onEvent(e);
          } catch (err) {
            this.logger.warn(`Could not handle the ${e.type} event of ${e.hostname}: ${(err as Error).message}`);
          }
        }
      },
    );
  }

  async stop(): Promise<void> {
    const stop = this.stopFn;
    this.stopFn = null;
    await stop?.();
  }
}
