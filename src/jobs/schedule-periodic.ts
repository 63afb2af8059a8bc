/**
 * @hourly, @daily, @weekly and @monthly (cozy-stack's periodic triggers). The
 * arguments restrict the window: `before 5am`, `after 10pm`, `between 8am and 6pm`,
 * `on monday` / `on mon,wed,fri` / `on wed-fri` / `on weekday` / `on weekend`
 * (weekly), `on the 1` / `on the 1-5` (monthly), in any order. Inside the window one
 * slot (second, minute, hour, and weekday or day of month) is picked from a hash of
 * the trigger id, so it is stable across restarts without being stored, and the
 * trigger runs at that slot every hour/day/week/month, in UTC.
 *
 * Unconstrained monthly triggers pick a day from 1 to 28, so they run every month.
 * An explicit `on the 29` (30, 31) is allowed, as in cozy-stack, but the trigger then
 * skips the months that lack that day. For @hourly the hour window is accepted (cozy
 * accepts it) but has no effect: the trigger runs every hour.
 */
import { createHash } from 'node:crypto';
import { BadRequest } from '../common/errors.js';
import { cronSchedule, type Schedule } from './schedule-cron.js';

export type PeriodicType = '@hourly' | '@daily' | '@weekly' | '@monthly';

export interface PeriodicSpec {
  /** Acceptable days of the month (1-31), for @monthly. */
  daysOfMonth: number[];
  /** Acceptable days of the week, 0 = sunday, for @weekly. */
  daysOfWeek: number[];
  /** The window is [afterHour, beforeHour) in UTC: 0-23 and 1-24. */
  afterHour: number;
  beforeHour: number;
}

export interface PeriodicSlot {
  second: number;
  minute: number;
  /** Absent for @hourly. */
  hour?: number;
  dayOfWeek?: number;
  dayOfMonth?: number;
  /** The six-field cron expression of the slot. */
  crontab: string;
}

const EXAMPLES: Record<PeriodicType, string> = {
  '@hourly': '"@hourly"',
  '@daily': '"@daily between 8am and 6pm"',
  '@weekly': '"@weekly on mon,wed-fri before 9am"',
  '@monthly': '"@monthly on the 1-5 after 10pm"',
};

const DAY_NAMES: Record<string, number> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tuesday: 2, wed: 3, wednesday: 3,
  thu: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

function failer(type: PeriodicType, args: string) {
  return (why: string): never => {
    throw new BadRequest(`invalid ${type} arguments "${args}": ${why}; for example ${EXAMPLES[type]}`);
  };
}

function parseHour(text: string, fail: (why: string) => never): number {
  const m = /^([0-9]{1,2})(am|pm)$/.exec(text);
  const h = m ? Number(m[1]) : 0;
  if (!m || h < 1 || h > 12) fail(`"${text}" is not an hour such as 5am or 10pm`);
  return (h % 12) + (m?.[2] === 'pm' ? 12 : 0);
}

function parseDaysOfWeek(field: string, fail: (why: string) => never): number[] {
  const day = (t: string): number => DAY_NAMES[t] ?? fail(`cannot parse "${t}" as a day of the week`);
  return field.split(',').flatMap((part) => {
    if (part === 'weekday') return [1, 2, 3, 4, 5];
    if (part === 'weekend') return [0, 6];
    if (!part.includes('-')) return [day(part)];
    const [a = '', b = ''] = part.split('-', 2);
    const from = day(a);
    let to = day(b);
    if (from === to) fail(`invalid range "${part}"`);
    if (to < from) to += 7;
    return Array.from({ length: to - from + 1 }, (_, i) => (from + i) % 7);
  });
}

function parseDaysOfMonth(field: string, fail: (why: string) => never): number[] {
  const day = (t: string): number => {
    const n = /^[0-9]{1,2}$/.test(t) ? Number(t) : 0;
    return n >= 1 && n <= 31 ? n : fail(`"${t}" is not a day of the month (1-31)`);
  };
  return field.split(',').flatMap((part) => {
    if (!part.includes('-')) return [day(part)];
    const [a = '', b = ''] = part.split('-', 2);
    const from = day(a);
    const to = day(b);
    if (from >= to) fail(`invalid range "${part}"`);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** Parses the arguments of a periodic trigger (BadRequest when they are not valid). */
export function parsePeriodic(type: PeriodicType, args: string): PeriodicSpec {
  const fail = failer(type, args);
  const spec: PeriodicSpec = {
    daysOfMonth: Array.from({ length: 28 }, (_, i) => i + 1),
    daysOfWeek: [0, 1, 2, 3, 4, 5, 6],
    afterHour: 0,
    beforeHour: 24,
  };
  const fields = args.trim().toLowerCase().split(/\s+/).filter(Boolean);
  while (fields.length > 0) {
    const word = fields.shift() as string;
    if (word === 'on') {
      const next = fields.shift() ?? fail(`expecting a day after "on"`);
      if (next === 'the') {
        if (type !== '@monthly') fail('"on the <day of month>" is only for @monthly');
        spec.daysOfMonth = [...new Set(parseDaysOfMonth(fields.shift() ?? fail('expecting a day after "on the"'), fail))];
      } else {
        if (type !== '@weekly') fail('"on <day of week>" is only for @weekly');
        spec.daysOfWeek = [...new Set(parseDaysOfWeek(next, fail))];
      }
    } else if (word === 'before' || word === 'and') {
      spec.beforeHour = parseHour(fields.shift() ?? fail(`expecting an hour after "${word}"`), fail) || 24;
    } else if (word === 'after' || word === 'between') {
      spec.afterHour = parseHour(fields.shift() ?? fail(`expecting an hour after "${word}"`), fail);
    } else {
      fail(`unexpected "${word}"`);
    }
  }
  if (spec.afterHour >= spec.beforeHour) fail('the hour range is empty');
  return spec;
}

/** Deterministic pseudo-random integers in [0, n) drawn from a hash of the seed. */
function seeded(seed: string): (n: number) => number {
  const digest = createHash('sha256').update(seed).digest();
  let offset = 0;
  return (n) => {
    const r = digest.readUInt32BE(offset);
    offset += 4;
    return r % n;
  };
}

/** The slot a periodic trigger runs at, for this trigger id. */
export function periodicSlot(type: PeriodicType, spec: PeriodicSpec, triggerId: string): PeriodicSlot {
  const rnd = seeded(triggerId);
  const second = rnd(60);
  const minute = rnd(60);
  const hour = spec.afterHour + rnd(spec.beforeHour - spec.afterHour);
  const pick = rnd(1 << 30);
  switch (type) {
    case '@hourly':
      return { second, minute, crontab: `${second} ${minute} * * * *` };
    case '@daily':
      return { second, minute, hour, crontab: `${second} ${minute} ${hour} * * *` };
    case '@weekly': {
      const dayOfWeek = spec.daysOfWeek[pick % spec.daysOfWeek.length] as number;
      return { second, minute, hour, dayOfWeek, crontab: `${second} ${minute} ${hour} * * ${dayOfWeek}` };
    }
    case '@monthly': {
      const dayOfMonth = spec.daysOfMonth[pick % spec.daysOfMonth.length] as number;
      return { second, minute, hour, dayOfMonth, crontab: `${second} ${minute} ${hour} ${dayOfMonth} * *` };
    }
  }
}

export function periodicSchedule(type: PeriodicType, args: string, triggerId: string): Schedule {
  return cronSchedule(periodicSlot(type, parsePeriodic(type, args), triggerId).crontab);
}
