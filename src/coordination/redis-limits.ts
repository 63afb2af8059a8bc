/**
 * Rate limits and lock-out counters in Redis (coordination.engine redis): the rules and answers of the memory
 * implementations (src/limits), counted in one place so that every process spends the same budget. Each operation is
 * one Lua script, atomic on the server; keys expire by themselves when their window or history ends. The clock is
 * Redis's own (TIME), so that the processes' clocks need not agree; tests inject theirs (`now`), as in memory.
 */
import type { Redis } from 'ioredis';
import { lockOutRules, type LockOut, type LockOutOptions, type LockStatus } from '../limits/lockout.js';
import { slicesOf, type HitResult, type LimitRule, type RateLimiter } from '../limits/rate-limiter.js';
import { escapeGlob } from './channels.js';

/**
 * The sliding window of sub-buckets of MemoryRateLimiter, in a hash: field w and s (the slice width and span of the
 * rule it was created with), and one field per non-empty slice (its index → its hits). ARGV: now ('' for Redis's), width, span, limit,
 * mode (hit or peek). Returns {allowed, remaining, retryAfterMs} for a hit, {count, retryAfterMs} for a peek.
 */
const NOW = `
local function clock(given)
  if given ~= '' then return tonumber(given) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end`;

const WINDOW = `${NOW}
local now, width, span, limit, mode = clock(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local data = redis.call('HGETALL', KEYS[1])
local w, s, slices = nil, nil, {}
for i = 1, #data, 2 do
  local f = data[i]
  if f == 'w' then w = tonumber(data[i + 1]) elseif f == 's' then s = tonumber(data[i + 1])
  else slices[#slices + 1] = {tonumber(f), tonumber(data[i + 1])} end
end
if mode == 'peek' then
  if w == nil then return {0, 0} end
  width, span = w, s
elseif w ~= width or s ~= span then
  redis.call('DEL', KEYS[1])
  slices = {}
end
table.sort(slices, function(a, b) return a[1] < b[1] end)
local current = math.floor(now / width)
local total, kept = 0, {}
for _, sl in ipairs(slices) do
  if sl[1] < current - span then redis.call('HDEL', KEYS[1], tostring(sl[1])) else total = total + sl[2]; kept[#kept + 1] = sl end
end
local function retryAfter(t)
  local excess = t - limit + 1
  if excess <= 0 then return 0 end
  for _, sl in ipairs(kept) do
    excess = excess - sl[2]
    if excess <= 0 then return math.max(0, (sl[1] + 1 + span) * width - now) end
  end
  return span * width
end
if mode == 'peek' then return {total, retryAfter(total)} end
if total >= limit then return {0, 0, retryAfter(total)} end
redis.call('HINCRBY', KEYS[1], tostring(current), 1)
redis.call('HSET', KEYS[1], 'w', width, 's', span)
redis.call('PEXPIRE', KEYS[1], (current + 1 + span) * width - now)
total = total + 1
kept[#kept + 1] = {current, 1}
if #kept > 1 and kept[#kept - 1][1] == current then kept[#kept - 1][2] = kept[#kept - 1][2] + 1; kept[#kept] = nil end
local remaining = limit - total
local retry = 0
if remaining <= 0 then retry = retryAfter(total) end
return {1, remaining, retry}`;

export class RedisRateLimiter implements RateLimiter {
  private readonly now: () => number | '';
  private readonly buckets: number;

  constructor(private readonly redis: Redis, opts: { now?: () => number; buckets?: number } = {}) {
    this.now = opts.now ?? (() => '');
    this.buckets = opts.buckets ?? 30;
  }

  async hit(key: string, rule: LimitRule): Promise<HitResult> {
    if (rule.limit <= 0) return { allowed: false, remaining: 0, retryAfterMs: rule.windowMs };
    const { width, span } = slicesOf(rule, this.buckets);
    const [allowed, remaining, retryAfterMs] = (await this.redis.eval(WINDOW, 1, `rl:${key}`, this.now(), width, span, rule.limit, 'hit')) as number[];
    return { allowed: allowed === 1, remaining: remaining!, retryAfterMs: retryAfterMs! };
  }

  async peek(key: string, rule: LimitRule): Promise<{ count: number; retryAfterMs: number }> {
    const { width, span } = slicesOf(rule, this.buckets);
    const [count, retryAfterMs] = (await this.redis.eval(WINDOW, 1, `rl:${key}`, this.now(), width, span, rule.limit, 'peek')) as number[];
    if (count === 0 && rule.limit <= 0) return { count: 0, retryAfterMs: rule.windowMs };
    return { count: count!, retryAfterMs: retryAfterMs! };
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(`rl:${key}`);
  }
}

/**
 * MemoryLockOut's state of a key in a hash (f failures, l level, u until, e last event), expiring when its history is
 * forgotten. ARGV: op (status, failure or success), now ('' for Redis's), threshold, baseMs, maxMs, forgetAfterMs.
 * Returns {locked, until, failures, level}.
 */
const LOCKOUT = `${NOW}
local op, now = ARGV[1], clock(ARGV[2])
local threshold, base, max, forget = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local v = redis.call('HMGET', KEYS[1], 'f', 'l', 'u', 'e')
local exists = v[1] ~= false
local f, l, u, e = tonumber(v[1] or 0), tonumber(v[2] or 0), tonumber(v[3] or 0), tonumber(v[4] or 0)
if exists and now >= math.max(u, e) + forget then
  redis.call('DEL', KEYS[1])
  exists, f, l, u, e = false, 0, 0, 0, 0
end
if op == 'failure' and not (exists and u > now) then
  f, e = f + 1, now
  if f >= threshold then
    u = now + math.min(base * 2 ^ math.min(l, 40), max)
    l, f = l + 1, 0
  end
  redis.call('HSET', KEYS[1], 'f', f, 'l', l, 'u', u, 'e', e)
  redis.call('PEXPIRE', KEYS[1], math.max(u, e) + forget - now)
  exists = true
elseif op == 'success' and exists and u <= now then
  f = 0
  if l == 0 then
    redis.call('DEL', KEYS[1])
    exists = false
  else
    redis.call('HSET', KEYS[1], 'f', 0)
  end
end
local locked = 0
if exists and u > now then locked = 1 end
return {locked, u, f, l}`;

export class RedisLockOut implements LockOut {
  private readonly rules: ReturnType<typeof lockOutRules>;
  private readonly now: () => number | '';

  /** `name` keeps the counters of two lock-outs apart (their keys are `lo:<name>:<key>`). */
  constructor(private readonly redis: Redis, private readonly name: string, opts: LockOutOptions = {}) {
    this.rules = lockOutRules(opts);
    this.now = opts.now ?? (() => '');
  }

  async status(key: string): Promise<LockStatus> {
    return (await this.run('status', key)).status;
  }

  async failure(key: string): Promise<LockStatus> {
    return (await this.run('failure', key)).status;
  }

  async success(key: string): Promise<void> {
    await this.run('success', key);
  }

  async lockOuts(key: string): Promise<number> {
    return (await this.run('status', key)).level;
  }

  async unlock(key: string): Promise<void> {
    await this.redis.del(this.key(key));
  }

  /** Finds the keys with SCAN (an operator's action, rare): the counters of other prefixes are not touched. */
  async unlockPrefix(prefix: string): Promise<void> {
    const own = this.redis.options.keyPrefix ?? '';
    const match = `${escapeGlob(own + this.key(prefix))}*`;
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys.map((k) => k.slice(own.length)));
    } while (cursor !== '0');
  }

  private key(key: string): string {
    return `lo:${this.name}:${key}`;
  }

  private async run(op: 'status' | 'failure' | 'success', key: string): Promise<{ status: LockStatus; level: number }> {
    const r = this.rules;
    const [locked, until, failures, level] = (await this.redis.eval(LOCKOUT, 1, this.key(key), op, this.now(), r.threshold, r.baseMs, r.maxMs, r.forgetAfterMs)) as number[];
    return { status: { locked: locked === 1, until: locked === 1 ? until! : null, failures: failures! }, level: level! };
  }
}
