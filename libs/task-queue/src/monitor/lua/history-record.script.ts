import { RedisScript } from '../../transports/redis/redis-script';

/**
 * record-task: applies one event to a task's hash and keeps the index bounded, in one step.
 * The state changes only when the event outranks the stored one; a new task past `maxTasks`
 * pops the oldest from the index and deletes their hashes (trim on write: memory stays flat).
 */
export const RECORD_SCRIPT = new RedisScript(
  'taskq-monitor-record',
  `
-- KEYS[1] index zset (id -> first seen ms)   KEYS[2] the task's hash   KEYS[3] the parent's hash or ''
-- ARGV[1] id  ARGV[2] first-seen ms  ARGV[3] ttl s  ARGV[4] max tasks  ARGV[5] state or ''  ARGV[6] rank
-- ARGV[7] hash key prefix  ARGV[8..] field, value pairs
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
if ARGV[5] ~= '' then
  local cur = tonumber(redis.call('HGET', KEYS[2], 'rank') or '-1')
  if tonumber(ARGV[6]) >= cur then redis.call('HSET', KEYS[2], 'state', ARGV[5], 'rank', ARGV[6]) end
end
if #ARGV >= 9 then redis.call('HSET', KEYS[2], unpack(ARGV, 8)) end
redis.call('EXPIRE', KEYS[2], ARGV[3])
if KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HSET', KEYS[3], 'child:' .. ARGV[1], ARGV[2])
end
if added == 1 then
  local over = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[4])
  if over > 0 then
    local old = redis.call('ZPOPMIN', KEYS[1], over)
    for i = 1, #old, 2 do redis.call('DEL', ARGV[7] .. old[i]) end
  end
end
return added
`,
);
