import { RedisScript } from '../../../transports/redis/redis-script';

/**
 * publish-direct: kombu's publish to a named direct exchange (celery-wire.md 3.4), e.g. Celery's
 * pidbox replies: read the routing table `_kombu.binding.<exchange>` and LPUSH the envelope onto
 * every queue bound with exactly this routing key. One script, so a listener that stops (SREM +
 * DEL in one MULTI) cannot be pushed to after its list was deleted, leaving a list nobody reads.
 *
 * The queue keys come from the table, so they are built here (key prefix + queue + bucket suffix),
 * as kombu builds them; kombu's layout is single-node anyway (no Redis Cluster).
 */
export const PUBLISH_DIRECT_SCRIPT = new RedisScript(
  'publish-direct',
  `
-- KEYS[1]  _kombu.binding.<exchange> (set of "routing_key SEP pattern SEP queue")
-- ARGV[1]  routing key       ARGV[2]  key prefix      ARGV[3]  bucket suffix ("" or SEP .. step)
-- ARGV[4]  the envelope text  ARGV[5]  SEP (the two bytes 0x06 0x16)
-- Returns: how many queues got the message (0: none bound, the message is dropped, as kombu does)
local sep = ARGV[5]
local pushed = 0
local seen = {}
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local a = string.find(member, sep, 1, true)
  if a then
    local b = string.find(member, sep, a + #sep, true)
    if b and string.sub(member, 1, a - 1) == ARGV[1] then
      local queue = string.sub(member, b + #sep)
      if not seen[queue] then
        seen[queue] = true
        redis.call('LPUSH', ARGV[2] .. queue .. ARGV[3], ARGV[4])
        pushed = pushed + 1
      end
    end
  end
end
return pushed
`,
);
