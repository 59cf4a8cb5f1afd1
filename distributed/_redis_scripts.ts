// Copyright 2026 the @lionpride/core authors. MIT license.
/**
 * The Lua scripts of the Redis store (internal). Each runs atomically on the
 * server and reads the server's clock with `TIME`, so no process clock takes
 * part in a decision.
 *
 * @module
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
`;

/** Unix seconds the GCRA script counts its µs from (2026-01-01). */
export const GCRA_EPOCH = 1767225600;

/**
 * Sets `limit` to the limit stored at `key`, else `fallback`; a stored value
 * that is not a positive integer (not written by setLimit) ends the script
 * with an error naming it before anything is written: read as a number it
 * over-admitted ("2.5", "inf") or admitted nobody, without a word.
 */
function readLimit(key: string, fallback: string): string {
  return `local raw = redis.call('GET', ${key})
local limit = tonumber(raw or ${fallback})
if not limit or limit < 1 or limit > 9007199254740991 or limit % 1 ~= 0 then
  return redis.error_reply('the limit stored at ' .. ${key} .. ' is not a positive integer: ' .. tostring(raw))
end
`;
}

/**
 * One lease round. KEYS: leases (zset id -> expiry), queue (zset id ->
 * arrival ticket), ticket expiry (zset id -> expiry), ticket counter, limit.
 * ARGV: ttl, default limit, tryOnly, #release, #renew, #want, then the ids.
 * A waiter is granted only while it is among the first `free` tickets of the
 * global queue, so every process serves waiters in arrival order; a ticket
 * its process stops refreshing (a dead process) expires after `ttl`.
 * Returns { granted, lost, limit, held }.
 */
export const LEASE_ROUND = `${NOW}${readLimit("KEYS[5]", "ARGV[2]")}local ttl = tonumber(ARGV[1])
local tryOnly = ARGV[3] == '1'
local nRelease, nRenew, nWant = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do
  redis.call('ZREM', KEYS[2], id)
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local i = 7
for _ = 1, nRelease do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
  i = i + 1
end
local lost = {}
for _ = 1, nRenew do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
  i = i + 1
end
local held = redis.call('ZCARD', KEYS[1])
local granted, mine, waiting = {}, {}, false
for _ = 1, nWant do
  local id = ARGV[i]
  i = i + 1
  if redis.call('ZSCORE', KEYS[1], id) then
    -- Granted by a round whose reply was lost: the process counts the lease
    -- from this round, so it must live ttl from now.
    redis.call('ZADD', KEYS[1], now + ttl, id)
    granted[#granted + 1] = id
  elseif tryOnly then
    if held < limit and redis.call('ZCARD', KEYS[2]) == 0 then
      redis.call('ZADD', KEYS[1], now + ttl, id)
      held = held + 1
      granted[#granted + 1] = id
    end
  else
    if not redis.call('ZSCORE', KEYS[2], id) then
      redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
    end
    redis.call('ZADD', KEYS[3], now + ttl, id)
    mine[id] = true
    waiting = true
  end
end
if waiting and held < limit then
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, limit - held - 1)) do
    if mine[id] then
      redis.call('ZADD', KEYS[1], now + ttl, id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('ZREM', KEYS[3], id)
      held = held + 1
      granted[#granted + 1] = id
    end
  end
end
-- Each key lives as long as its latest expiry, so the keys of a name nobody
-- uses any more (its processes gone) go away on their own. Only a round that
-- set an expiry can have moved the latest one later.
if nRenew > #lost or #granted > 0 then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] then redis.call('PEXPIREAT', KEYS[1], math.ceil(tonumber(last[2])) + 1) end
end
if waiting then
  local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
  if last[2] then
    -- The counter outlives every ticket, so none drawn later can go first.
    local at = math.ceil(tonumber(last[2])) + 1
    redis.call('PEXPIREAT', KEYS[2], at)
    redis.call('PEXPIREAT', KEYS[3], at)
    redis.call('PEXPIREAT', KEYS[4], at)
  else
    redis.call('DEL', KEYS[4])
  end
end
return { granted, lost, limit, held }
`;

/** KEYS: leases, limit. ARGV: default limit. Returns { limit, held }. */
export const LEASE_STATS = `${NOW}${readLimit("KEYS[2]", "ARGV[1]")}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return { limit, redis.call('ZCARD', KEYS[1]) }
`;

/**
 * µs a decision may lie past its bound and still fit: float rounding, not
 * time. `period / limit` is rarely exact in binary, so the steps of a full
 * burst can sum to a hair over `burst * interval`; and the stored arrival
 * time carries 2^-9 µs of rounding at today's distance from the epoch.
 */
const ROUNDING = 0.01;

/**
 * The start of both GCRA scripts: the server's clock as µs since
 * {@linkcode GCRA_EPOCH} (`now`) and how far the name's arrival time lies
 * ahead of it, never below 0 (`ahead`). Sums of steps are made on `ahead`,
 * a small number, not on the arrival time, whose rounding is coarser.
 */
const GCRA_READ = `local t = redis.call('TIME')
local now = (t[1] - ${GCRA_EPOCH}) * 1000000 + t[2]
local ahead = (tonumber(redis.call('GET', KEYS[1])) or now) - now
if ahead < 0 then ahead = 0 end
`;

/**
 * The end of both GCRA scripts: stores the arrival time (`now + ahead`) for
 * ARGV[1] ms, or, when ARGV[1] is '', until it lies 1 ms in the past.
 */
const GCRA_WRITE = `local px = ARGV[1]
if px == '' then px = math.ceil(ahead / 1000) + 1 end
redis.call('SET', KEYS[1], now + ahead, 'PX', px)`;

/**
 * GCRA decisions on one name, made in order on one reading of the server's
 * clock. KEYS: the theoretical arrival time, in µs since
 * {@linkcode GCRA_EPOCH}. ARGV: the key's time-to-live in ms ('' = work it
 * out here), then per decision `cost * interval` and how far ahead of now
 * the arrival time may lie after it (`burst * interval + maxWait`), both in
 * µs. A decision that fits reserves its cost. Each reply is how far ahead of
 * now the arrival time is after that decision, in whole µs rounded up,
 * negated if the cost did not fit (and nothing was reserved), in an array.
 * The client sends one decision to {@linkcode GCRA_ONE} instead.
 *
 * The shape follows what costs server time per call (bench/README.md,
 * "Rate decisions on Redis"): every string read as a number, every number
 * written back (`%.17g`) and a reply table each cost a fair share of a GET.
 * So the client works out the products and, when nothing may wait, the
 * time-to-live; one read and one write serve every decision of a call. µs
 * from a recent epoch keep the arrival time finer than µs since 1970 could.
 */
export const GCRA = `${GCRA_READ}local replies, reserved = {}, false
for i = 2, #ARGV, 2 do
  local after = ahead + ARGV[i]
  if after > ARGV[i + 1] + ${ROUNDING} then
    replies[#replies + 1] = -math.ceil(after)
  else
    ahead = after
    reserved = true
    replies[#replies + 1] = math.ceil(after)
  end
end
if reserved then ${GCRA_WRITE} end
return replies
`;

/**
 * One GCRA decision, a caller alone in its turn: the outcome, KEYS and ARGV
 * of {@linkcode GCRA} with one decision, without its loop and reply table,
 * which cost server time per call (bench/README.md, "one decision, its own
 * script"). Replies the integer GCRA would put in its array.
 */
export const GCRA_ONE = `${GCRA_READ}local after = ahead + ARGV[2]
if after > ARGV[3] + ${ROUNDING} then return -math.ceil(after) end
ahead = after
${GCRA_WRITE}
return math.ceil(ahead)
`;

/**
 * KEYS: open-until (expires when probes may start), tripped (until a probe
 * succeeds). Returns { ms left open (PTTL), tripped (0/1) }.
 */
export const BREAKER_READ = `return { redis.call('PTTL', KEYS[1]), redis.call('EXISTS', KEYS[2]) }`;

/**
 * KEYS: as BREAKER_READ. ARGV: ms to stay open; 0 clears both. "tripped"
 * outlives the open time by a day, so a breaker nobody probes again is
 * eventually forgotten.
 */
export const BREAKER_WRITE = `local ms = tonumber(ARGV[1])
if ms <= 0 then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  redis.call('SET', KEYS[1], '1', 'PX', ms)
  redis.call('SET', KEYS[2], '1', 'PX', ms + 86400000)
end
return 1
`;

/**
 * `n` equal GCRA decisions on one name, the common case of callers that all
 * `tryAcquire` the same cost: the same outcome as {@linkcode GCRA} deciding
 * them one by one, without a loop or a reply per decision. KEYS: as GCRA.
 * ARGV: the key's time-to-live in ms ('' = work it out here), `n`, then
 * `cost * interval` and the most the arrival time may lie ahead of now, in
 * µs. Since each admitted decision moves the arrival time by the same step
 * and a refused one moves nothing, the first `k` fit and the rest do not.
 * Replies `{ k, how far ahead of now the arrival time was before them, in
 * whole µs rounded up }`; the client works out each decision from those.
 */
export const GCRA_SAME = `${GCRA_READ}local step = tonumber(ARGV[3])
local k = math.floor((ARGV[4] + ${ROUNDING} - ahead) / step)
if k > tonumber(ARGV[2]) then k = tonumber(ARGV[2]) end
local before = math.ceil(ahead)
if k < 1 then return { 0, before } end
ahead = ahead + k * step
${GCRA_WRITE}
return { k, before }
`;
