import { RedisScript } from '../../../transports/redis/redis-script';

/** release-mutex: deletes kombu's `unacked_mutex` only if we still own it (redis-py Lock's release). */
export const RELEASE_MUTEX_SCRIPT = new RedisScript(
  'release-mutex',
  `
-- KEYS[1]  unacked_mutex       ARGV[1]  our token
-- Returns: 1 released, 0 not ours (expired and taken by another process)
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
);
