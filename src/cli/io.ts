/** Output helpers and the error type that carries a command's exit code. */
import { InvalidArgumentError } from 'commander';
import { validateDomain } from '../instances/domain.js';

/** Ends a command with `exitCode`; an empty message prints nothing. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'CliError';
  }
}

// Resolved at each call (not bound at import) so that tests can spy on process.stdout.write.
export const out = (s: string): void => void process.stdout.write(s);
export const err = (s: string): void => void process.stderr.write(s);
export const printJson = (v: unknown): void => out(JSON.stringify(v, null, 2) + '\n');

/** Pads columns into a readable table. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n') + '\n';
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/** "10GB" → 10_000_000_000, "1GiB" → 2^30, "500" → 500 bytes; "unlimited"/"none" → null. */
export function parseBytes(raw: string): number | null {
  if (/^(unlimited|none)$/i.test(raw.trim())) return null;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(raw);
  const factor = m ? UNITS[(m[2] ?? '').toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new InvalidArgumentError('expected a size in bytes such as 5000000000, 10GB, 512MiB, or "unlimited".');
  }
  return Math.round(Number(m[1]) * factor);
}

export function formatBytes(n: number | null): string {
  if (n === null) return 'unlimited';
  for (const [unit, size] of [['TB', 1e12], ['GB', 1e9], ['MB', 1e6], ['kB', 1e3]] as const) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} B`;
}

/** A commander argParser: a valid instance domain, lower-cased. */
export function parseDomain(raw: string): string {
  try {
    return validateDomain(raw);
  } catch {
    throw new InvalidArgumentError('expected an instance domain such as alice.example.org, hearth.localhost:8080, localhost:8080, 127.0.0.1:8080 or [::1]:8080.');
  }
}

/**
 * A commander argParser from one of the public API's validators (which throw a BadRequest naming the field): the
 * CLI refuses at once (exit 2) what the server would refuse, with the same message, and passes the value on as typed.
 */
export function checkedBy(check: (v: string) => unknown): (raw: string) => string {
  return (raw) => {
    try {
      check(raw);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
    return raw;
  };
}
