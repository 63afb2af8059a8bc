/**
 * Crash and fail points. `crashPoint('apps.install.triggers')` kills this process at once (SIGKILL, no cleanup, as a
 * power loss would stop it) when the environment variable HEARTH_CRASH_POINT names that point: the kill -9 tests. The
 * same point throws an `InjectedFailure` instead when a test armed it with `armFailPoint` (as an engine call that fails
 * there would: a database or blob-store error, not a crash): the tests of failures handled in the same process.
 * Nothing happens otherwise: one comparison with a string read once, one lookup in an empty map.
 */
const armed = process.env.HEARTH_CRASH_POINT ?? '';

/** Fail points armed, with how many more times each fails. */
const failing = new Map<string, number>();

/** What an armed fail point throws. */
export class InjectedFailure extends Error {
  constructor(readonly point: string) {
    super(`injected failure at ${point}`);
    this.name = 'InjectedFailure';
  }
}

export function crashPoint(name: string): void {
  if (armed !== '' && armed === name) process.kill(process.pid, 'SIGKILL');
  if (failing.size === 0) return;
  const left = failing.get(name);
  if (left === undefined) return;
  if (left <= 1) failing.delete(name);
  else failing.set(name, left - 1);
  throw new InjectedFailure(name);
}

/** Makes the point `name` fail the next `times` times it is reached; returns the disarm (a test calls it at its end). */
export function armFailPoint(name: string, times = 1): () => void {
  failing.set(name, times);
  return () => void failing.delete(name);
}
