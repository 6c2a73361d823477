import { RedisScript } from '../../transports/redis/redis-script';

/**
 * beat-lease: takes or renews the leader lease. A takeover increments the fence counter, so the
 * new leader's token is higher than any token handed out before, and beat-fire refuses the old one.
 */
export const BEAT_LEASE_SCRIPT = new RedisScript(
  'beat-lease',
  `
-- KEYS[1] leader key ("<node> <token>", with a TTL)   KEYS[2] fence counter
-- ARGV[1] node id   ARGV[2] lease ms
-- Returns the token when ARGV[1] leads, else nil
local cur = redis.call('GET', KEYS[1])
if cur then
  local node, tok = string.match(cur, '^(.*) (%d+)$')
  if node == ARGV[1] and redis.call('GET', KEYS[2]) == tok then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return tonumber(tok)
  end
  return nil
end
local tok = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. tok, 'PX', ARGV[2])
return tok
`,
);

/** beat-release: drops the lease if this node still holds it with this token (a graceful stop hands over at once). */
export const BEAT_RELEASE_SCRIPT = new RedisScript(
  'beat-release',
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`,
);
