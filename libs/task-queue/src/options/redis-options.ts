export interface RedisTransportOptions {
  /**
   * Seconds before a delivered, unacked message is restored to its queue. Default 3600. [visibility_timeout]
   * @defaultValue 3600
   */
  visibilityTimeout?: number;
  /**
   * Seconds between checks for messages to restore. Default 60.
   * @defaultValue 60
   */
  restoreInterval?: number;
  /**
   * Seconds the restore mutex (`unacked_mutex`) lives when its holder dies before releasing it: while it
   * lives no process restores unacked messages. A worker killed in the middle of a restore delays every
   * restore by up to this long. Default 300, as kombu. [unacked_mutex_expire]
   * @defaultValue 300
   */
  unackedMutexExpire?: number;
  /**
   * Prefix for every key and channel. Default `''`. [global_keyprefix]
   * @defaultValue `''`
   */
  keyPrefix?: string;
  /**
   * Seconds an idle consumer blocks in one wait before it looks at every queue again. The wait wakes
   * at once for the base list of the queue it watches; messages in other queues or priority buckets
   * are seen within this bound (kombu's BRPOP uses 1 s too). Default 1.
   * @defaultValue 1
   */
  blockTimeout?: number;
  /**
   * Longest pause in milliseconds between reconnect attempts (backoff starts at 100 ms and doubles). Default 2000.
   * @defaultValue 2000
   */
  reconnectMaxDelay?: number;
  /**
   * TLS options for `rediss://` URLs (Node's tls.connect options: `ca`, `cert`, `key`, `servername`,
   * `rejectUnauthorized`…). Default: Node's defaults (the system CAs; the certificate must match the host).
   * @defaultValue Node's defaults (the system CAs; the certificate must match the host)
   */
  tls?: import('node:tls').ConnectionOptions;
  /**
   * After each publish, wait until this many replicas hold it (Redis WAIT, bounded by publishTimeout),
   * so that a Sentinel failover cannot lose a task already reported as sent. Costs one round trip to
   * the replicas per publish (publishMany: per chunk). Default 0 (off, as kombu).
   * @defaultValue 0
   */
  waitReplicas?: number;
  /**
   * Master name for `sentinel://` URLs (a `?master_name=` in the URL wins). [broker_transport_options.master_name]
   * @defaultValue none
   */
  masterName?: string;
  /**
   * Password of the Sentinels themselves (the URL's password is the master's). [sentinel_kwargs.password]
   * @defaultValue none
   */
  sentinelPassword?: string;
  /**
   * User of the Sentinels themselves (Redis 6 ACL). [sentinel_kwargs.username]
   * @defaultValue none
   */
  sentinelUsername?: string;
}
