import { ConfigurationError } from '../errors';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { schemeOf } from '../transports/url-scheme';
import { parseBrokerUrl } from '../transports/broker-url';
import { ResultBackend } from './result-backend.interface';
import { MemoryResultBackend } from './memory/memory.backend';
import { assertOptionalPeer } from '../peers/optional-peer.loader';
import { loadIoredis } from '../peers/ioredis.loader';

const SUPPORTED = ['memory://', 'redis://', 'rediss://', 'sentinel://', 'rpc://'];

/** Picks the result backend by URL scheme; drivers are required lazily. */
export function createResultBackend(options: ResolvedTaskQueueOptions): ResultBackend {
  const url = options.resultBackend;
  parseBrokerUrl(url, 'resultBackend'); // refuses, masked, a password that would be misread
  const scheme = schemeOf(url);
  switch (scheme) {
    case 'memory':
      return new MemoryResultBackend(url, options);
    case 'redis':
    case 'rediss':
    case 'sentinel': {
      loadIoredis(`The result backend URL ${scheme}://`);
      const { RedisResultBackend } = require('./redis/redis.backend') as typeof import('./redis/redis.backend');
      return new RedisResultBackend(url, options);
    }
    case 'rpc': {
      assertOptionalPeer('amqplib', 'The result backend URL rpc://');
      const { RpcResultBackend } = require('./rpc/rpc.backend') as typeof import('./rpc/rpc.backend');
      return new RpcResultBackend(url, options);
    }
    default:
      throw new ConfigurationError(
        `Unsupported result backend URL scheme "${scheme}://" in resultBackend. Supported: ${SUPPORTED.join(', ')}.`,
      );
  }
}
