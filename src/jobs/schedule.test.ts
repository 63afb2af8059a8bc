/** Durations, @at, @in, @every, @cron and the argument check of every trigger type. */
import { describe, expect, it } from 'vitest';
import { BadRequest } from '../common/errors.js';
import { compileSchedule, isTimeTrigger, normalizeCron, parseAt, parseDuration, validateTriggerArguments } from './schedule.js';
import type { TriggerType } from './types.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The n next runs after `from`, each one asked after the previous. */
function runs(type: TriggerType, args: string, from: string, n: number): (string | null)[] {
  const schedule = compileSchedule(type, args, { triggerId: 'trigger-1' });
  const out: (string | null)[] = [];
  let cursor = at(from);
  for (let i = 0; i < n; i++) {
    const next = schedule.next(cursor);
    out.push(iso(next));
    if (next === null) break;
    cursor = next;
  }
  return out;
}

function refusal(fn: () => unknown): BadRequest {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BadRequest);
    return err as BadRequest;
  }
  throw new Error('expected a BadRequest');
}

describe('parseDuration', () => {
  it('reads Go durations with s, m and h units, fractions included', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('30m10s')).toBe(1_810_000);
    expect(parseDuration('2h45m')).toBe(9_900_000);
    expect(parseDuration('.5s')).toBe(500);
    expect(parseDuration('1.h')).toBe(3_600_000);
    expect(parseDuration('1h1h')).toBe(7_200_000);
    expect(parseDuration('+5m')).toBe(300_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration(' 2m ')).toBe(120_000);
  });

  it('refuses negatives, empty text, sub-second units and garbage, naming the syntax', () => {
    expect(refusal(() => parseDuration('-5m')).reason).toMatch(/negative/);
    expect(refusal(() => parseDuration('')).reason).toMatch(/empty/);
    expect(refusal(() => parseDuration('300ms')).reason).toMatch(/below a second/);
    expect(refusal(() => parseDuration('5us')).reason).toMatch(/below a second/);
    expect(refusal(() => parseDuration('3d')).reason).toMatch(/unknown unit "d"/);
    expect(refusal(() => parseDuration('10')).reason).toMatch(/no unit/);
    for (const bad of ['abc', '1h 30m', '1H', '.s', 'h', '1.5.5h', '5m!']) {
      expect(refusal(() => parseDuration(bad)).reason).toContain('expected numbers with a unit s, m or h, such as "30s", "1.5h" or "2h45m"');
    }
  });
});

describe('@at', () => {
  it('parses RFC 3339 dates, with fractions and offsets', () => {
    expect(parseAt('2018-12-12T15:36:25.507Z')).toBe(Date.UTC(2018, 11, 12, 15, 36, 25, 507));
    expect(parseAt('2018-12-12T15:36:25Z')).toBe(Date.UTC(2018, 11, 12, 15, 36, 25));
    expect(parseAt('2018-12-12T16:36:25+01:00')).toBe(Date.UTC(2018, 11, 12, 15, 36, 25));
    expect(parseAt('2018-12-12T10:06:25-05:30')).toBe(Date.UTC(2018, 11, 12, 15, 36, 25));
    expect(parseAt('2030-01-01T00:00:00.123456789Z')).toBe(Date.UTC(2030, 0, 1, 0, 0, 0, 123));
    expect(parseAt('2024-02-29T12:00:00Z')).toBe(Date.UTC(2024, 1, 29, 12));
  });

  it('is one-shot, and keeps a date in the past (the scheduler fires at once)', () => {
    const s = compileSchedule('@at', '2018-12-12T15:36:25.507Z', { triggerId: 't' });
    expect(s.oneShot).toBe(true);
    expect(iso(s.next(at('2018-01-01T00:00:00Z')))).toBe('2018-12-12T15:36:25.507Z');
    expect(iso(s.next(at('2025-06-01T00:00:00Z')))).toBe('2018-12-12T15:36:25.507Z');
  });

  it('refuses anything that is not a strict RFC 3339 date', () => {
    for (const bad of ['2018-12-12', '2018-12-12 15:36:25Z', '2018-12-12T15:36:25', '2018-12-12t15:36:25z', '2018-02-30T00:00:00Z', '2023-02-29T00:00:00Z',
      '2018-13-01T00:00:00Z', '2018-12-12T24:00:00Z', '2018-12-12T12:60:00Z', '2018-12-12T12:00:60Z', '2018-12-12T12:00:00+25:00', '2018-12-12T12:00:00+0100', 'tomorrow', '']) {
      const err = refusal(() => compileSchedule('@at', bad, { triggerId: 't' }));
      expect(err.reason).toBe(`invalid @at arguments "${bad}": expected an RFC 3339 date such as "2018-12-12T15:36:25.507Z" or "2018-12-12T16:36:25+01:00"`);
    }
  });
});

describe('@in and @every', () => {
  const createdAt = at('2024-01-01T00:00:00Z');

  it('@in fires once, the duration after creation', () => {
    const s = compileSchedule('@in', '1h30m', { triggerId: 't', createdAt });
    expect(s.oneShot).toBe(true);
    expect(iso(s.next(createdAt))).toBe('2024-01-01T01:30:00.000Z');
    expect(iso(s.next(at('2024-02-01T00:00:00Z')))).toBe('2024-01-01T01:30:00.000Z');
    expect(iso(compileSchedule('@in', '10m', { triggerId: 't', createdAt }).next(0))).toBe('2024-01-01T00:10:00.000Z');
    expect(refusal(() => compileSchedule('@in', '-10m', { triggerId: 't', createdAt })).reason).toMatch(/^invalid duration "-10m": negative/);
  });

  it('@every runs at createdAt + k·d, k ≥ 1, strictly after the time asked', () => {
    const s = compileSchedule('@every', '1.5h', { triggerId: 't', createdAt });
    expect(s.oneShot).toBe(false);
    expect(iso(s.next(createdAt - 86_400_000))).toBe('2024-01-01T01:30:00.000Z');
    expect(iso(s.next(createdAt))).toBe('2024-01-01T01:30:00.000Z');
    expect(iso(s.next(at('2024-01-01T01:29:59.999Z')))).toBe('2024-01-01T01:30:00.000Z');
    expect(iso(s.next(at('2024-01-01T01:30:00Z')))).toBe('2024-01-01T03:00:00.000Z');
    expect(iso(s.next(at('2024-01-01T01:40:00Z')))).toBe('2024-01-01T03:00:00.000Z');
    // after a long downtime it resumes on the grid, without catching up every slot
    expect(iso(s.next(at('2024-01-03T10:00:00Z')))).toBe('2024-01-03T10:30:00.000Z');
    expect(runs('@every', '30m10s', '2024-01-01T00:00:00Z', 1)).toHaveLength(1);
    const t = compileSchedule('@every', '30m10s', { triggerId: 't', createdAt });
    expect(iso(t.next(t.next(createdAt) as number))).toBe('2024-01-01T01:00:20.000Z');
  });

  it('@every refuses intervals under a second and bad durations', () => {
    expect(refusal(() => compileSchedule('@every', '0.5s', { triggerId: 't' })).reason).toMatch(/^invalid @every arguments "0.5s": the interval must be at least one second/);
    expect(refusal(() => compileSchedule('@every', '0', { triggerId: 't' })).reason).toMatch(/at least one second/);
    expect(refusal(() => compileSchedule('@every', 'often', { triggerId: 't' })).reason).toMatch(/^invalid duration "often"/);
  });
});

describe('@cron', () => {
  it('runs on the given second, in UTC', () => {
    expect(runs('@cron', '0 0 0 1 1 *', '2024-03-05T10:00:00Z', 2)).toEqual(['2025-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
    expect(runs('@cron', '0 0 0 * * *', '2024-01-01T00:00:00Z', 2)).toEqual(['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z']);
    expect(runs('@cron', '0 0 * * * *', '2024-01-01T10:59:59.999Z', 2)).toEqual(['2024-01-01T11:00:00.000Z', '2024-01-01T12:00:00.000Z']);
    expect(runs('@cron', '* * * * * *', '2024-01-01T00:00:05.500Z', 2)).toEqual(['2024-01-01T00:00:06.000Z', '2024-01-01T00:00:07.000Z']);
    expect(runs('@cron', '*/15 * * * * *', '2024-01-01T00:00:07Z', 3)).toEqual(['2024-01-01T00:00:15.000Z', '2024-01-01T00:00:30.000Z', '2024-01-01T00:00:45.000Z']);
    expect(runs('@cron', '30 0 0 29 2 *', '2024-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:30.000Z']);
  });

  it('reads names, ranges, lists, steps and "?"', () => {
    // 2024-01-06 is a saturday
    expect(runs('@cron', '30 5 9 * * MON-FRI', '2024-01-06T12:00:00Z', 2)).toEqual(['2024-01-08T09:05:30.000Z', '2024-01-09T09:05:30.000Z']);
    expect(runs('@cron', '0 0 12 1 JAN,jul ?', '2024-02-01T00:00:00Z', 2)).toEqual(['2024-07-01T12:00:00.000Z', '2025-01-01T12:00:00.000Z']);
    expect(runs('@cron', '0 0 0 ? * sun', '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-07T00:00:00.000Z']);
    expect(runs('@cron', '0 0 0 * * 0', '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-07T00:00:00.000Z']);
    expect(runs('@cron', '0 10-40/15 * * * *', '2024-01-01T00:00:00Z', 4)).toEqual(['2024-01-01T00:10:00.000Z', '2024-01-01T00:25:00.000Z', '2024-01-01T00:40:00.000Z', '2024-01-01T01:10:00.000Z']);
    expect(runs('@cron', '0 50/5 * * * *', '2024-01-01T00:00:00Z', 3)).toEqual(['2024-01-01T00:50:00.000Z', '2024-01-01T00:55:00.000Z', '2024-01-01T01:50:00.000Z']);
    expect(runs('@cron', '0 0 20-/2 * * *', '2024-01-01T00:00:00Z', 3)).toEqual(['2024-01-01T20:00:00.000Z', '2024-01-01T22:00:00.000Z', '2024-01-02T20:00:00.000Z']);
    expect(runs('@cron', '0 0 0 1 */3 *', '2024-01-15T00:00:00Z', 3)).toEqual(['2024-04-01T00:00:00.000Z', '2024-07-01T00:00:00.000Z', '2024-10-01T00:00:00.000Z']);
    expect(runs('@cron', '0 0 8 1,15 FEB-MAR *', '2024-01-01T00:00:00Z', 4)).toEqual(['2024-02-01T08:00:00.000Z', '2024-02-15T08:00:00.000Z', '2024-03-01T08:00:00.000Z', '2024-03-15T08:00:00.000Z']);
    expect(normalizeCron('0 0 12 ? jan,JUL mon-fri')).toBe('0 0 12 * 1,7 1-5');
  });

  it('runs on a day matching the day of month OR the day of week when both are set', () => {
    expect(runs('@cron', '0 0 0 13 * FRI', '2024-01-01T00:00:00Z', 4)).toEqual(['2024-01-05T00:00:00.000Z', '2024-01-12T00:00:00.000Z', '2024-01-13T00:00:00.000Z', '2024-01-19T00:00:00.000Z']);
    expect(runs('@cron', '0 0 0 13 * *', '2024-01-01T00:00:00Z', 2)).toEqual(['2024-01-13T00:00:00.000Z', '2024-02-13T00:00:00.000Z']);
    expect(runs('@cron', '0 0 0 13 * ?', '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-13T00:00:00.000Z']);
    expect(runs('@cron', '0 0 0 * * 5', '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-05T00:00:00.000Z']);
  });

  it('refuses other syntaxes, explaining the six fields', () => {
    const cases: [string, string][] = [
      ['* * * * *', 'found 5 fields'],
      ['0 0 0 * * * 2024', 'found 7 fields'],
      ['', 'found 0 fields'],
      ['60 * * * * *', 'seconds 60 is out of range 0-59'],
      ['* * 24 * * *', 'hours 24 is out of range 0-23'],
      ['* * * 0 * *', 'day of month 0 is out of range 1-31'],
      ['* * * * 13 *', 'month 13 is out of range 1-12'],
      ['* * * * * 7', 'day of week 7 is out of range 0-6'],
      ['0 0 0 L * *', '"L" is not a valid day of month'],
      ['0 0 0 * * 5#2', '"5#2" is not a valid day of week'],
      ['0 0 0 15W * *', '"15W" is not a valid day of month'],
      ['? * * * * *', '"?" is only allowed in day of month and day of week'],
      ['0 5-1 * * * *', 'the range "5-1" starts after its end'],
      ['*/0 * * * * *', 'the step in "*/0" must be at least 1'],
      ['0 0 0 * * JAN', '"JAN" is not a valid day of week'],
      ['0 0 0 * FOO *', '"FOO" is not a valid month'],
      ['1- * * * * *', 'the range "1-" has no end'],
      ['@daily', 'found 1 field'],
    ];
    for (const [expr, why] of cases) {
      const err = refusal(() => compileSchedule('@cron', expr, { triggerId: 't' }));
      expect(err.reason).toBe(`invalid @cron arguments "${expr}": ${why}; expected six fields "seconds minutes hours day-of-month month day-of-week", such as "0 30 9 * * MON-FRI"`);
    }
  });
});

describe('trigger types and their arguments', () => {
  it('tells time triggers from the others', () => {
    for (const t of ['@at', '@in', '@every', '@cron', '@hourly', '@daily', '@weekly', '@monthly']) expect(isTimeTrigger(t)).toBe(true);
    for (const t of ['@event', '@webhook', '@client', '@yearly', 'cron', '']) expect(isTimeTrigger(t)).toBe(false);
    expect(refusal(() => compileSchedule('@event', 'io.cozy.files', { triggerId: 't' })).reason).toBe('"@event" is not a time trigger type');
  });

  it('accepts valid arguments of every type', () => {
    const valid: [string, string][] = [
      ['@at', '2030-01-01T00:00:00Z'], ['@in', '10m'], ['@every', '1h'], ['@cron', '0 0 0 * * *'], ['@hourly', ''], ['@daily', 'before 5am'],
      ['@weekly', 'on monday before 9am'], ['@monthly', 'on the 1 before 9am'], ['@event', 'io.cozy.files:CREATED'], ['@event', 'io.cozy.accounts.sourceAccountIdentifier:CREATED'], ['@webhook', ''], ['@client', '  '],
    ];
    for (const [type, args] of valid) expect(() => validateTriggerArguments(type, args)).not.toThrow();
  });

  it('refuses bad arguments, naming the type', () => {
    expect(refusal(() => validateTriggerArguments('@webhook', 'x')).reason).toBe('invalid @webhook arguments "x": @webhook takes no arguments, use just "@webhook"');
    expect(refusal(() => validateTriggerArguments('@client', 'now')).reason).toBe('invalid @client arguments "now": @client takes no arguments, use just "@client"');
    expect(refusal(() => validateTriggerArguments('@yearly', '')).reason).toMatch(/^unknown trigger type "@yearly": use one of @at, @in, @every, @cron/);
    expect(refusal(() => validateTriggerArguments('@event', '')).reason).toMatch(/^invalid @event arguments "": no doctype/);
    expect(refusal(() => validateTriggerArguments('@event', 'io.cozy.Files')).reason).toMatch(/"io.cozy.Files" is not a valid doctype/);
    expect(refusal(() => validateTriggerArguments('@cron', '0 0 0 * *')).reason).toMatch(/^invalid @cron arguments/);
    expect(refusal(() => validateTriggerArguments('@weekly', 'on the 1')).reason).toMatch(/^invalid @weekly arguments "on the 1"/);
    expect(refusal(() => validateTriggerArguments('@at', 'soon')).reason).toMatch(/^invalid @at arguments "soon"/);
  });
});
