import { RedisScript } from '../../transports/redis/redis-script';

/**
 * beat-fire: the one atomic step of a send. It refuses a stale leader (fencing token), refuses a
 * slot another send already advanced past, advances the entry's next-due, records the run, and
 * (when the broker is this Redis) LPUSHes the kombu envelopes the library built. Nothing can be
 * sent without its bookkeeping, nor bookkept without being sent.
 */
export const BEAT_FIRE_SCRIPT = new RedisScript(
  'beat-fire',
  `
-- KEYS[1] fence counter   KEYS[2] due zset   KEYS[3] entry hash   [KEYS[4] queue list   KEYS[5] kombu binding set]
-- ARGV: token, name, expected next, new next ('' = none), last slot, now, count, [binding member, envelope...]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'fenced' end
local score = redis.call('ZSCORE', KEYS[2], ARGV[2])
if not score or tonumber(score) ~= tonumber(ARGV[3]) then return 'moved' end
if ARGV[4] == '' then redis.call('ZREM', KEYS[2], ARGV[2]) else redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2]) end
redis.call('HSET', KEYS[3], 'next', ARGV[4])
if tonumber(ARGV[7]) > 0 then
  redis.call('HSET', KEYS[3], 'lastSlot', ARGV[5], 'lastRunAt', ARGV[6])
  redis.call('HINCRBY', KEYS[3], 'runs', ARGV[7])
end
if #KEYS >= 5 then
  redis.call('SADD', KEYS[5], ARGV[8])
  for i = 9, #ARGV do redis.call('LPUSH', KEYS[4], ARGV[i]) end
end
return 'sent'
`,
);
