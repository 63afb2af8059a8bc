/**
 * The @cron syntax of cozy-stack (robfig/cron with seconds): exactly six fields,
 * `seconds minutes hours day-of-month month day-of-week`, read in UTC. Each field is
 * a comma list of `*`, `N`, `N-M`, with an optional `/step` (`N/step` and `N-/step`
 * mean "from N to the field's max"); `?` stands for `*` in day-of-month and
 * day-of-week; months and weekdays take names (JAN-DEC, SUN-SAT). When both day
 * fields are restricted a day matching either runs (robfig's OR). The fields are
 * checked here, then handed to croner for the date arithmetic.
 */
import { Cron } from 'croner';
import { BadRequest } from '../common/errors.js';

export interface Schedule {
  /** The first run strictly after `afterMs`, or null if there is none. One-shot schedules always return their single time. */
  next(afterMs: number): number | null;
  /** True for @at and @in: the trigger fires once and is then removed. */
  oneShot: boolean;
}

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  question?: boolean;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const FIELDS: readonly FieldSpec[] = [
  { name: 'seconds', min: 0, max: 59 },
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 6, names: WEEKDAYS, question: true },
];

const CRON_EXAMPLE = 'six fields "seconds minutes hours day-of-month month day-of-week", such as "0 30 9 * * MON-FRI"';

const ITEM_RE = /^(?:(\*|\?)|([0-9]+|[a-z]{3})(?:(-)([0-9]+|[a-z]{3})?)?)(?:\/([0-9]+))?$/i;

function fail(expr: string, why: string): never {
  throw new BadRequest(`invalid @cron arguments "${expr}": ${why}; expected ${CRON_EXAMPLE}`);
}

function value(expr: string, spec: FieldSpec, text: string): number {
  let n: number;
  if (/^[0-9]+$/.test(text)) n = Number(text);
  else {
    n = spec.names?.indexOf(text.toLowerCase()) ?? -1;
    if (n < 0) fail(expr, `"${text}" is not a valid ${spec.name}`);
    if (spec.min === 1) n += 1;
  }
  if (n < spec.min || n > spec.max) fail(expr, `${spec.name} ${text} is out of range ${spec.min}-${spec.max}`);
  return n;
}

/** Checks one field and rewrites it in the plain numeric form croner reads. */
function normalizeField(expr: string, spec: FieldSpec, field: string): string {
  const items = field.split(',').map((item) => {
    const m = ITEM_RE.exec(item);
    if (!m) fail(expr, `"${item}" is not a valid ${spec.name}`);
    const [, star, low, dash, high, stepText] = m;
    const step = stepText === undefined ? undefined : Number(stepText);
    if (step !== undefined && step < 1) fail(expr, `the step in "${item}" must be at least 1`);
    if (star === '?' && !spec.question) fail(expr, `"?" is only allowed in day of month and day of week`);
    if (star !== undefined) {
      if (star === '?' && step !== undefined) fail(expr, `"?" takes no step`);
      return step === undefined || step === 1 ? '*' : `*/${step}`;
    }
    const from = value(expr, spec, low as string);
    if (dash === undefined && step === undefined) return String(from);
    if (dash !== undefined && high === undefined && step === undefined) fail(expr, `the range "${item}" has no end`);
    const to = high === undefined ? spec.max : value(expr, spec, high);
    if (from > to) fail(expr, `the range "${item}" starts after its end`);
    return step === undefined ? `${from}-${to}` : `${from}-${to}/${step}`;
  });
  // robfig treats a day field holding `*` (or `?`) anywhere as unrestricted
  if (spec.question && items.includes('*')) return '*';
  return items.join(',');
}

/** Validates a six-field cron expression and returns it in croner's numeric form. */
export function normalizeCron(expr: string): string {
  const fields = expr.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== 6) fail(expr, `found ${fields.length} field${fields.length === 1 ? '' : 's'}`);
  return fields.map((f, i) => normalizeField(expr, FIELDS[i] as FieldSpec, f)).join(' ');
}

/** A repeating schedule from a (checked) six-field cron expression, in UTC. */
export function cronSchedule(expr: string): Schedule {
  const pattern = normalizeCron(expr);
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone: 'UTC', mode: '6-part', domAndDow: false });
  } catch (err) {
    fail(expr, err instanceof Error ? err.message.replace(/^CronPattern: /, '') : String(err));
  }
  return {
    oneShot: false,
    next(afterMs: number): number | null {
      return cron.nextRun(new Date(afterMs))?.getTime() ?? null;
    },
  };
}
