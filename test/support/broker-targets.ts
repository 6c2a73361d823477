import Redis from 'ioredis';
import { TaskQueueModuleOptions } from 'nestjs-celery';
import { createTestVhost, TestVhost } from './rabbitmq';
import { uniqueName } from './wait';
import { suiteRedisUrl } from './test-env';
import { deletePrefix } from './redis-test.helpers';

/**
 * A broker (and result backend) a behaviour suite runs against, so that one suite proves the same
 * behaviour on memory, Redis and RabbitMQ. Each target isolates itself: its own default queue, and
 * on RabbitMQ its own vhost.
 */
export interface BrokerTarget {
  name: string;
  /** Module options for this target; `extra` wins, worker options are merged. */
  options(extra?: TaskQueueModuleOptions): TaskQueueModuleOptions;
  /** The queue tasks go to when none is named. */
  defaultQueue: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function merge(base: TaskQueueModuleOptions, extra: TaskQueueModuleOptions = {}): TaskQueueModuleOptions {
  return { ...base, ...extra, worker: { ...base.worker, ...extra.worker }, redis: { ...base.redis, ...extra.redis } };
}

export function memoryTarget(tag: string): BrokerTarget {
  const url = `memory://${uniqueName(tag)}`;
  const defaultQueue = uniqueName(`${tag}-q`);
  return {
    name: 'memory',
    defaultQueue,
    options: (extra) => merge({ brokerUrl: url, defaultQueue }, extra),
    setup: async () => undefined,
    teardown: async () => undefined,
  };
}

/** The DB of these parametrized suites (test-env.ts `brokerTargets`); they run one at a time. */
const REDIS_URL = suiteRedisUrl('brokerTargets');

export function redisTarget(tag: string): BrokerTarget {
  const defaultQueue = uniqueName(`${tag}-q`);
  return {
    name: 'redis',
    defaultQueue,
    options: (extra) =>
      merge({ brokerUrl: REDIS_URL, resultBackend: REDIS_URL, defaultQueue, redis: { restoreInterval: 1 } }, extra),
    setup: async () => undefined,
    teardown: async () => {
      const redis = new Redis(REDIS_URL);
      await deletePrefix(redis, ''); // the whole DB: these suites own it
      await redis.quit();
    },
  };
}

/** RabbitMQ in a vhost of its own, with results in the targets' Redis DB (chords need Redis) or over rpc://. */
export function amqpTarget(tag: string, results: 'redis' | 'rpc' = 'redis'): BrokerTarget {
  const defaultQueue = uniqueName(`${tag}-q`);
  let vhost: TestVhost | null = null;
  const redis = redisTarget(tag);
  return {
    name: `amqp+${results}`,
    defaultQueue,
    options: (extra) => {
      if (!vhost) throw new Error('amqpTarget: call setup() first');
      return merge(
        { brokerUrl: vhost.url, resultBackend: results === 'redis' ? REDIS_URL : 'rpc://', defaultQueue },
        extra,
      );
    },
    setup: async () => {
      vhost = await createTestVhost(tag);
    },
    teardown: async () => {
      await vhost?.delete();
      if (results === 'redis') await redis.teardown();
    },
  };
}
