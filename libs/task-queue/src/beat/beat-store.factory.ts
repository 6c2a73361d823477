import { schemeOf } from '../transports/url-scheme';
import { ConfigurationError } from '../errors';
import { ResolvedTaskQueueOptions } from '../options/resolved-options';
import { maskUrl } from '../transports/url-mask';
import { ResolvedBeatOptions } from '../options/beat-options';
import { BeatStore } from './beat.store';
import { noStoreError } from './beat.config';
import { MemoryBeatStore } from './memory-beat.store';

/** Opens the store the options name: Redis (required lazily, as the broker does) or the in-process one. */
export function createBeatStore(beat: ResolvedBeatOptions, config: ResolvedTaskQueueOptions): BeatStore {
  if (!beat.store) throw noStoreError(config);
  const scheme = schemeOf(beat.store);
  if (scheme === 'memory') return MemoryBeatStore.for(beat.store);
  if (scheme === 'redis' || scheme === 'rediss') {
    const { RedisBeatStore } = require('./redis-beat.store') as typeof import('./redis-beat.store');
    return new RedisBeatStore(beat.store, config.redis.keyPrefix, beat.storeIsBroker, config.redis.tls);
  }
  throw new ConfigurationError(
    `beat.store ${maskUrl(beat.store)} is not supported: use redis://, rediss:// or memory://.`,
  );
}
