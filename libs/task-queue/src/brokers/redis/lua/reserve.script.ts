import { RedisScript } from '../../../transports/redis/redis-script';
import { MOVE_DUE_LUA } from './move-due.script';

/**
 * reserve: pops up to N messages across the bucket lists, in the order given, AND registers each in
 * kombu's `unacked` hash and `unacked_index` zset, in one atomic step.
 *
 * Why: kombu BRPOPs and then, in a second round trip, writes unacked. A process killed between the
 * two loses the message. Here the pop and the registration are one script, so at every instant a
 * message is either in its list or in `unacked` (where any kombu or taskq restorer finds it).
 *
 * The unacked value is built by string concatenation, never by cjson.encode of the envelope:
 * cjson would turn `[]` into `{}` and round long numbers. `[raw, exchange, routing_key]` with the
 * raw text untouched is exactly what kombu's restore_visible `loads()`.
 *
 * A list item that is not a JSON object (kombu would crash on it) is registered wrapped as
 * `{"headers": {}, "properties": {"delivery_info": {…}}, "taskq_raw": "<item>"}`, which a Python
 * restore puts back intact and our consumer unwraps, so it is never lost.
 * A missing or already-used delivery_tag gets a fresh one (ARGV[3] .. n), so no entry overwrites another.
 *
 * Before popping, it moves the messages that are due from each queue's delayed set to the back of
 * their priority bucket (move-due.script.ts), at most 1000 per queue per call. It returns the earliest due
 * time still waiting, so an idle consumer blocks no longer than that.
 */
export const RESERVE_SCRIPT = new RedisScript(
  'reserve',
  `
-- KEYS[1]  unacked (hash)      KEYS[2]  unacked_index (zset)      KEYS[3]  receipt (string)
-- KEYS[4 .. 3+Q]  each queue's delayed set (zset), queues in the rotated order
-- KEYS[4+Q ..]    bucket lists, in serving order: step 0 of every queue, then step 3, 6, 9 (4 × Q keys)
-- ARGV[1]  max messages to take
-- ARGV[2]  now, unix time in float seconds (the unacked_index score, as kombu writes it); -1: the server's clock
-- ARGV[3]  fresh tag prefix, for items without a usable delivery_tag
-- ARGV[4]  receipt: "<seq>" recorded with the tags taken, so a lost reply can be recovered
-- ARGV[5]  receipt time-to-live in ms
-- ARGV[6]  now in ms (delayed messages scored at or below it are due); -1: the server's clock
-- ARGV[7]  Q, the number of queues
-- ARGV[8 ..] for each bucket key, its queue name (the routing key of items that carry none)
-- Returns: {next due ms (-1: none waiting), moved from delayed sets, then per message taken:
--           bucket index (1-based among the buckets), delivery_tag, raw item, …}
${MOVE_DUE_LUA}
local Q = tonumber(ARGV[7])
local nowMs = tonumber(ARGV[6])
local score = ARGV[2]
if nowMs < 0 then
  -- Sent behind a blocking wait, so the caller's clock would be stale: TIME is allowed here because
  -- scripts replicate their effects (Redis >= 5; BLMOVE already needs 6.2).
  local t = redis.call('TIME')
  nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  score = string.format('%d.%06d', tonumber(t[1]), tonumber(t[2]))
end
local first = 4 + Q
local moved = 0
local nextDue = -1
for qi = 1, Q do
  local buckets = {}
  for step = 0, 3 do buckets[step + 1] = KEYS[first + step * Q + qi - 1] end
  local m, at = moveDue(KEYS[3 + qi], buckets, nowMs, 1000)
  moved = moved + m
  if at >= 0 and (nextDue < 0 or at < nextDue) then nextDue = at end
end
local max = tonumber(ARGV[1])
local out = {nextDue, moved}
local tags = {}
local n = 0
for i = first, #KEYS do
  if n >= max then break end
  local queue = ARGV[i - first + 8]
  while n < max do
    local raw = redis.call('RPOP', KEYS[i])
    if not raw then break end
    n = n + 1
    local ok, env = pcall(cjson.decode, raw)
    local tag, exchange, rk, value = nil, '', queue, nil
    if ok and type(env) == 'table' and (env.body ~= nil or env.properties ~= nil or env.headers ~= nil) then
      local props = env.properties
      if type(props) == 'table' then
        if type(props.delivery_tag) == 'string' and props.delivery_tag ~= '' then tag = props.delivery_tag end
        local info = props.delivery_info
        if type(info) == 'table' then
          if type(info.exchange) == 'string' then exchange = info.exchange end
          if type(info.routing_key) == 'string' then rk = info.routing_key end
        end
      end
      value = '[' .. raw .. ', ' .. cjson.encode(exchange) .. ', ' .. cjson.encode(rk) .. ']'
    else
      local info = '{"exchange": "", "routing_key": ' .. cjson.encode(queue) .. '}'
      value = '[{"headers": {}, "properties": {"delivery_info": ' .. info .. '}, "taskq_raw": ' .. cjson.encode(raw) .. '}, "", ' .. cjson.encode(queue) .. ']'
    end
    if (not tag) or redis.call('HEXISTS', KEYS[1], tag) == 1 then tag = ARGV[3] .. n end
    redis.call('HSET', KEYS[1], tag, value)
    redis.call('ZADD', KEYS[2], score, tag)
    out[#out + 1] = i - first + 1
    out[#out + 1] = tag
    out[#out + 1] = raw
    tags[#tags + 1] = tag
  end
end
if n > 0 then
  redis.call('SET', KEYS[3], ARGV[4] .. '\\n' .. table.concat(tags, '\\n'), 'PX', ARGV[5])
end
return out
`,
);
