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
   * Task states the rpc:// backend keeps in memory for get() (oldest dropped first). Default 10000.
   * @defaultValue 10000
   */
  rpcResultCacheSize?: number;
}
