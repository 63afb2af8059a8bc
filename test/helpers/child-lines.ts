/** The lines a child process prints, in order: `line(n)` is its n-th (from 0), waited for; rejected if it exits first. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export function childLines(child: ChildProcess): (n: number) => Promise<string> {
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  return (n) => new Promise<string>((resolve, reject) => {
    const check = setInterval(() => {
      if (lines.length > n) {
        clearInterval(check);
        resolve(lines[n]!);
      }
    }, 5);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`the child exited with ${code}`));
    });
  });
}
