import { createHash } from 'node:crypto';
import type Redis from 'ioredis';

/**
 * A Lua script run with EVALSHA, falling back to EVAL once when the server does not know it yet
 * (after a restart or SCRIPT FLUSH). Every multi-step change to kombu's keys is one of these, so
 * that a crash can never leave half of it done.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run<T = unknown>(
    conn: Redis,
    keys: readonly (string | Buffer)[],
    args: readonly (string | number | Buffer)[],
  ): Promise<T> {
    try {
      return (await conn.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return (await conn.eval(this.lua, keys.length, ...keys, ...args)) as T;
    }
  }
}
