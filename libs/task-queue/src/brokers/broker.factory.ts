import { ConfigurationError } from '../errors';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { Broker } from './broker.interface';
import { schemeOf } from '../transports/url-scheme';
import { parseBrokerUrl } from '../transports/broker-url';
import { MemoryBroker } from './memory/memory.broker';
import { assertOptionalPeer } from '../peers/optional-peer.loader';
import { loadIoredis } from '../peers/ioredis.loader';

const SUPPORTED = ['memory://', 'redis://', 'rediss://', 'sentinel://', 'amqp://', 'amqps://'];

/**
 * Picks the broker by URL scheme, as Celery does. Redis and AMQP adapters are required lazily, so
 * an app on `memory://` loads neither ioredis nor amqplib.
 */
export function createBroker(options: ResolvedTaskQueueOptions): Broker {
  const url = options.brokerUrl;
  // Refuses, masked, a URL whose password would be misread (raw '/', '@'…) before any driver sees it.
  parseBrokerUrl(url, 'brokerUrl');
  const scheme = schemeOf(url);
  switch (scheme) {
    case 'memory':
      return new MemoryBroker(url);
    case 'redis':
    case 'rediss':
    case 'sentinel': {
      loadIoredis(`The broker URL ${scheme}://`);
      const { RedisBroker } = require('./redis/redis.broker') as typeof import('./redis/redis.broker');
      return new RedisBroker(url, options);
    }
    case 'amqp':
    case 'amqps': {
      assertOptionalPeer('amqplib', `The broker URL ${scheme}://`);
      const { AmqpBroker } = require('./amqp/amqp.broker') as typeof import('./amqp/amqp.broker');
      return new AmqpBroker(url, options);
    }
    default:
      throw new ConfigurationError(
        `Unsupported broker URL scheme "${scheme}://" in brokerUrl. Supported: ${SUPPORTED.join(', ')}.`,
      );
  }
}
