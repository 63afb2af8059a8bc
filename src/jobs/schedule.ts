/**
 * When time triggers fire (docs/jobs.md, "Triggers"): pure functions that turn a
 * trigger's type and arguments into a Schedule, and that check the arguments of
 * every trigger type. The scheduler asks `next(now)` and sleeps until then; nothing
 * here reads the clock except to default `createdAt`.
 *
 * - @at: an RFC 3339 date (`2018-12-12T15:36:25.507Z`); a date in the past is kept:
 *   the scheduler fires at once (cozy-stack drops @at more than AT_MAX_PAST_MS late).
 * - @in: a duration after the trigger's creation.
 * - @every: a duration; runs at createdAt + k·d for k ≥ 1.
 * - @cron, @hourly, @daily, @weekly, @monthly: see schedule-cron.ts, schedule-periodic.ts.
 */
import { BadRequest } from '../common/errors.js';
import { parseEventArguments } from './event-match.js';
import { cronSchedule, type Schedule } from './schedule-cron.js';
import { periodicSchedule } from './schedule-periodic.js';
import type { TriggerType } from './types.js';

export type { Schedule } from './schedule-cron.js';
export { normalizeCron } from './schedule-cron.js';
export { parsePeriodic, periodicSlot, type PeriodicSlot, type PeriodicSpec, type PeriodicType } from './schedule-periodic.js';

export type TimeTriggerType = '@at' | '@in' | '@every' | '@cron' | '@hourly' | '@daily' | '@weekly' | '@monthly';

const TIME_TYPES: readonly string[] = ['@at', '@in', '@every', '@cron', '@hourly', '@daily', '@weekly', '@monthly'];
const ALL_TYPES: readonly string[] = [...TIME_TYPES, '@event', '@webhook', '@client'];

/** cozy-stack fires an @at trigger found late by less than this, and drops it otherwise. */
export const AT_MAX_PAST_MS = 24 * 3600 * 1000;

export function isTimeTrigger(type: string): type is TimeTriggerType {
  return TIME_TYPES.includes(type);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_SYNTAX = 'numbers with a unit s, m or h, such as "30s", "1.5h" or "2h45m"';

/**
 * Go's time.ParseDuration, restricted as cozy-stack documents it for @every, @in and
 * debounce: units s, m and h only, fractions allowed ("1.5h", "30m10s"), no sign
 * but an optional "+", "0" alone allowed. Returns milliseconds (rounded).
 */
export function parseDuration(text: string): number {
  const fail = (why: string): never => {
    throw new BadRequest(`invalid duration "${text}": ${why}; expected ${DURATION_SYNTAX}`);
  };
  let rest = text.trim();
  if (rest.startsWith('-')) fail('negative durations are not allowed');
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0;
  if (rest === '') fail('it is empty');
  const part = /([0-9]+(?:\.[0-9]*)?|\.[0-9]+)([a-zµ]*)/y;
  let total = 0;
  while (part.lastIndex < rest.length) {
    const start = part.lastIndex;
    const m = part.exec(rest) ?? fail(`unexpected "${rest.slice(start)}"`);
    const [, num = '', unit = ''] = m;
    if (unit === '') fail(`the number ${num} has no unit`);
    const ms = UNIT_MS[unit] ?? fail(['ms', 'us', 'µs', 'ns'].includes(unit) ? `unit "${unit}" is below a second` : `unknown unit "${unit}"`);
    total += Number(num) * ms;
  }
  if (!Number.isSafeInteger(Math.round(total))) fail('it is too long');
  return Math.round(total);
}

const AT_RE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/;

/** Parses an @at date strictly as RFC 3339 (Go's time.RFC3339), returning epoch ms. */
export function parseAt(text: string): number {
  const fail = (): never => {
    throw new BadRequest(`invalid @at arguments "${text}": expected an RFC 3339 date such as "2018-12-12T15:36:25.507Z" or "2018-12-12T16:36:25+01:00"`);
  };
  const m = AT_RE.exec(text.trim()) ?? fail();
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const frac = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) fail();
  let offset = 0;
  const zone = m[8] as string;
  if (zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) fail();
    offset = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, s, frac);
  return utc.getTime() - offset;
}

function once(at: number): Schedule {
  return { oneShot: true, next: () => at };
}

/**
 * The schedule of a time trigger. `triggerId` seeds the slot of periodic triggers;
 * `createdAt` (epoch ms, default now) anchors @in and @every. Only time types have
 * a schedule (see isTimeTrigger): the others throw a BadRequest.
 */
export function compileSchedule(type: TriggerType, args: string, opts: { triggerId: string; createdAt?: number }): Schedule {
  const createdAt = opts.createdAt ?? Date.now();
  const text = args.trim();
  switch (type) {
    case '@at':
      return once(parseAt(text));
    case '@in':
      return once(createdAt + parseDuration(text));
    case '@every': {
      const every = parseDuration(text);
      if (every < 1000) throw new BadRequest(`invalid @every arguments "${args}": the interval must be at least one second, such as "@every 30m"`);
      return {
        oneShot: false,
        next(afterMs: number): number {
          const k = Math.max(1, Math.floor((afterMs - createdAt) / every) + 1);
          return createdAt + k * every;
        },
      };
    }
    case '@cron':
      return cronSchedule(text);
    case '@hourly':
    case '@daily':
    case '@weekly':
    case '@monthly':
      return periodicSchedule(type, text, opts.triggerId);
    default:
      throw new BadRequest(`"${String(type)}" is not a time trigger type`);
  }
}

/** Checks the arguments of any trigger type (BadRequest with an example when invalid). */
export function validateTriggerArguments(type: TriggerType | string, args: string): void {
  if (!ALL_TYPES.includes(type)) throw new BadRequest(`unknown trigger type "${type}": use one of ${ALL_TYPES.join(', ')}`);
  if (isTimeTrigger(type)) {
    compileSchedule(type, args, { triggerId: '', createdAt: 0 });
  } else if (type === '@event') {
    parseEventArguments(args);
  } else if (args.trim() !== '') {
    throw new BadRequest(`invalid ${type} arguments "${args}": ${type} takes no arguments, use just "${type}"`);
  }
}
