/** A Hearth server in a child process (test/helpers/server-main.ts), to kill -9 in crash tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Started { child: ChildProcess; port: number; domain: string; token: string }

/** Starts the server on `dataDir` (and `port`, 0 for any); resolves once it listens. */
export function startServer(dataDir: string, port = 0): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/server-main.ts', dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ child, ...(JSON.parse(line) as Omit<Started, 'child'>) }));
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
}

/** Stops a server cleanly and waits for its exit. */
export function stopServer(s: Started): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}
