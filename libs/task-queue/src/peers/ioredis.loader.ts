import type Redis from 'ioredis';
import { requireOptionalPeer } from './optional-peer.loader';

/** What `require('ioredis')` gives: the client class (ioredis 5/6 export it as `default` too). */
type IoredisModule = typeof Redis & { default?: typeof Redis };

let loaded: typeof Redis | null = null;

/**
 * The ioredis client class, loaded on first use: an app on `memory://` or `amqp://` never loads it,
 * and an app on `redis://` without ioredis installed fails at boot saying `npm install ioredis`.
 */
export function loadIoredis(neededFor = 'A redis:// URL'): typeof Redis {
  if (loaded) return loaded;
  const mod = requireOptionalPeer<IoredisModule>('ioredis', neededFor);
  loaded = mod.default ?? mod;
  return loaded;
}
