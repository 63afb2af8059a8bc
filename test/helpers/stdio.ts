/** Captures what CLI commands write to stdout and stderr, test by test. */
import { afterEach, beforeEach, vi } from 'vitest';

export interface Captured { stdout: string; stderr: string }

/** Registers hooks that empty `io` and route process.stdout/stderr writes into it for each test. */
export function captureStdio(): Captured {
  const io: Captured = { stdout: '', stderr: '' };
  beforeEach(() => {
    io.stdout = io.stderr = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((io.stdout += String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((io.stderr += String(s)), true));
  });
  afterEach(() => vi.restoreAllMocks());
  return io;
}
