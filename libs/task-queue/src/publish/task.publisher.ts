import { Inject, Injectable } from '@nestjs/common';
import { Broker } from '../brokers/broker.interface';
import { TaskMessage, etaOf } from '../protocol/task-message';
import { TASK_QUEUE_BROKER, TASK_QUEUE_CONFIG } from '../task-queue.constants';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { TaskRegistry } from '../registry/task.registry';

/** Where a countdown/eta waits: in the broker (delayed delivery) or in the worker that received it. */
export type DelayIn = 'broker' | 'worker';

/**
 * The one way a task message leaves this process (Celery's `app.amqp.send_task_message`): routing
 * and the delay policy live here, and `TaskClient`, the canvas, the worker's workflow steps and its
 * retries all send through it.
 */
@Injectable()
export class TaskPublisher {
  constructor(
    @Inject(TASK_QUEUE_BROKER) private readonly broker: Broker,
    @Inject(TASK_QUEUE_CONFIG) private readonly config: ResolvedTaskQueueOptions,
    private readonly registry: TaskRegistry,
  ) {}

  /** Celery's routing: the queue asked for, else the task's own (@SharedTask), else `defaultQueue`. */
  queueFor(task: string, explicit?: string): string {
    return explicit ?? this.registry.find(task)?.options.queue ?? this.config.defaultQueue;
  }

  /** Publishes one message; a countdown/eta waits in the broker unless `delayIn` (or the module's `delayInBroker`) says the worker. */
  async publish(queue: string, message: TaskMessage, delayIn?: DelayIn): Promise<void> {
    const inBroker = (delayIn ?? (this.config.delayInBroker ? 'broker' : 'worker')) === 'broker';
    await this.broker.publish(queue, message, { deliverAt: inBroker ? etaOf(message) : undefined });
  }

  /**
   * Publishes many messages to one queue: in one go when the broker can (`publishMany`) and none
   * waits in the broker for an eta, else one by one, all in flight.
   */
  async publishMany(queue: string, messages: readonly TaskMessage[], delayIn?: DelayIn): Promise<void> {
    const inBroker = (delayIn ?? (this.config.delayInBroker ? 'broker' : 'worker')) === 'broker';
    const delayed = inBroker && messages.some((m) => etaOf(m) !== undefined);
    if (this.broker.publishMany && !delayed) return this.broker.publishMany(queue, messages);
    await Promise.all(messages.map((m) => this.publish(queue, m, delayIn)));
  }

  /** A retry's next run: it always waits in the broker until `eta`, back on the queue it came from. */
  publishRetry(queue: string, message: TaskMessage, eta: Date): Promise<void> {
    return this.broker.publish(queue, message, { deliverAt: eta });
  }
}
