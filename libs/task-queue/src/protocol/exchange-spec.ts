// Exchanges and listener queues as the wire protocol names them (Celery's pidbox, reply and event
// exchanges); brokers declare them, protocol/ only names them.

/** An exchange as Celery declares it (celery-wire.md 4.1). */
export interface ExchangeSpec {
  name: string;
  type: 'fanout' | 'direct' | 'topic';
  durable: boolean;
}

/** The queue a listener reads an exchange through. */
export interface ListenerQueueSpec {
  name: string;
  /** The binding key: the routing key of a direct exchange, a pattern on a topic one, ignored on fanout. */
  bindingKey: string;
  /**
   * Whose queue it is, for the transport's declaration flags (AMQP: Celery's `control_queue_*` or
   * `event_queue_*` settings choose exclusive / durable). Default `event`: a queue with a unique name.
   */
  role?: 'control' | 'event';
  /** Delete the queue when its last consumer goes. */
  autoDelete: boolean;
  /** AMQP `x-expires`: delete the queue after this long unused. */
  expiresMs?: number;
  /** AMQP `x-message-ttl`: drop messages older than this. */
  messageTtlMs?: number;
}
