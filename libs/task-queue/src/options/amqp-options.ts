export interface AmqpTransportOptions {
  /**
   * Declare task queues with `x-max-priority` set to this (1–255). Default: no priority. [task_queue_max_priority]
   * @defaultValue no priority
   */
  maxPriority?: number;
  /**
   * `classic` or `quorum`. Default `classic`. [task_default_queue_type]
   * @defaultValue `classic`
   */
  queueType?: 'classic' | 'quorum';
  /**
   * Seconds between AMQP heartbeats. Default 60 (amqplib's default). [broker_heartbeat]
   * @defaultValue 60 (amqplib's default)
   */
  heartbeat?: number;
  /**
   * The server's `consumer_timeout` in milliseconds, used only to warn about longer task time limits (Celery #6760). Default 1800000 (RabbitMQ's 30 min).
   * @defaultValue 1800000 (RabbitMQ's 30 min)
   */
  consumerTimeout?: number;
  /**
   * Milliseconds before the first reconnect attempt; doubles on each failure. Default 100. [broker_connection_retry]
   * @defaultValue 100
   */
  reconnectDelay?: number;
  /**
   * Upper bound in milliseconds of the delay between reconnect attempts. Default 5000.
   * @defaultValue 5000
   */
  reconnectMaxDelay?: number;
  /**
   * Declare remote-control queues (the worker's `<hostname>.celery.pidbox`, a caller's reply queue)
   * exclusive to their connection, as Celery 5.7 / kombu 5.6 do by default: RabbitMQ 4.x refuses
   * transient non-exclusive queues (deprecated feature `transient_nonexcl_queues`). Two workers with
   * one node name then cannot both listen: the second retries briefly and refuses to start.
   * Set false (and `controlQueueDurable` false) for Celery 5.2's declaration. [control_queue_exclusive]
   * @defaultValue true
   */
  controlQueueExclusive?: boolean;
  /**
   * Declare remote-control queues durable (not auto-deleted). Cannot be combined with
   * `controlQueueExclusive` (an exclusive queue goes with its connection). [control_queue_durable]
   * @defaultValue false
   */
  controlQueueDurable?: boolean;
  /**
   * Declare event receiver queues (`celeryev.<uuid>`, one per monitor) exclusive to their connection,
   * as Celery 5.7 does by default; their names are unique, so no two connections compete. [event_queue_exclusive]
   * @defaultValue true
   */
  eventQueueExclusive?: boolean;
  /**
   * Declare event receiver queues durable (not auto-deleted). Cannot be combined with
   * `eventQueueExclusive`. [event_queue_durable]
   * @defaultValue false
   */
  eventQueueDurable?: boolean;
  /**
   * Task states the rpc:// backend keeps in memory for get() (oldest dropped first). Default 10000.
   * @defaultValue 10000
   */
  rpcResultCacheSize?: number;
}
