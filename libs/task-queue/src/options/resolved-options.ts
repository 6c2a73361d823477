import { TaskExecutionOptions } from './shared-task-options';
import { RedisTransportOptions } from './redis-options';
import { AmqpTransportOptions } from './amqp-options';
import { AutoscaleOptions, WorkerOptions } from './worker-options';

/** Options with no default: they stay optional once resolved. */
type RedisUnset = 'tls' | 'masterName' | 'sentinelPassword' | 'sentinelUsername';
type AmqpUnset = 'maxPriority' | 'heartbeat';

/** Options with every default applied. The rest of the library reads only this, so no `??` repeats a default. */
export interface ResolvedTaskQueueOptions {
  brokerUrl: string;
  resultBackend: string;
  defaultQueue: string;
  acceptContent: string[];
  taskSerializer: 'json';
  resultExpires: number;
  trackStarted: boolean;
  taskDefaults: TaskExecutionOptions;
  delayInBroker: boolean;
  publishTimeout: number;
  brokerConnectionRetryOnStartup: boolean;
  /** 0 = forever. */
  brokerConnectionMaxRetries: number;
  redis: Required<Omit<RedisTransportOptions, RedisUnset>> & Pick<RedisTransportOptions, RedisUnset>;
  amqp: Required<Omit<AmqpTransportOptions, AmqpUnset>> & Pick<AmqpTransportOptions, AmqpUnset>;
  worker: Omit<Required<WorkerOptions>, 'autoscale'> & { autoscale: Required<AutoscaleOptions> | null };
}
