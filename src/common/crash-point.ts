/**
 * Crash points for the kill -9 tests: `crashPoint('apps.install.triggers')` kills this process at once (SIGKILL, no
 * cleanup, as a power loss would stop it) when the environment variable HEARTH_CRASH_POINT names that point. Nothing
 * happens otherwise: one comparison with a string read once.
 */
const armed = process.env.HEARTH_CRASH_POINT ?? '';

export function crashPoint(name: string): void {
  if (armed !== '' && armed === name) process.kill(process.pid, 'SIGKILL');
}
