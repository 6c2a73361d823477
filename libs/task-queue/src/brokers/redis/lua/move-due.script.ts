import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * The Lua function that moves due messages from a queue's delayed set (`_taskq.delayed.<queue>`,
 * score = due ms) to the back of their priority bucket (LPUSH, as a fresh publish), at most
 * `limit` per call, earliest first. Shared by the reserve script (every consumer moves before it
 * pops) and by move-due below (a publisher moves what it scheduled, for queues without our consumers).
 *
 * moveDue(delayed key, {bucket 0, 3, 6, 9 keys}, now ms, limit) → moved, next due ms (-1: none left)
 */
export const MOVE_DUE_LUA = `
local function moveDue(delayed, buckets, nowMs, limit)
  local moved = 0
  for _, raw in ipairs(redis.call('ZRANGEBYSCORE', delayed, '-inf', nowMs, 'LIMIT', 0, limit)) do
    local step = 1
    local ok, env = pcall(cjson.decode, raw)
    if ok and type(env) == 'table' and type(env.properties) == 'table' then
      local p = tonumber(env.properties.priority) or 0
      if p >= 9 then step = 4 elseif p >= 6 then step = 3 elseif p >= 3 then step = 2 end
    end
    redis.call('LPUSH', buckets[step], raw)
    redis.call('ZREM', delayed, raw)
    moved = moved + 1
  end
  local head = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
  local nextDue = -1
  if head[2] then nextDue = tonumber(head[2]) end
  return moved, nextDue
end
`;

/** move-due: moves the due messages of one queue now (see MOVE_DUE_LUA). */
export const MOVE_DUE_SCRIPT = new RedisScript(
  'move-due',
  `
-- KEYS[1]  the queue's delayed set (zset)      KEYS[2..5]  its bucket lists for steps 0, 3, 6, 9
-- ARGV[1]  now in ms                           ARGV[2]  most messages to move
-- Returns: {moved, next due ms (-1: nothing left waiting)}
${MOVE_DUE_LUA}
local moved, nextDue = moveDue(KEYS[1], {KEYS[2], KEYS[3], KEYS[4], KEYS[5]}, tonumber(ARGV[1]), tonumber(ARGV[2]))
return {moved, nextDue}
`,
);
