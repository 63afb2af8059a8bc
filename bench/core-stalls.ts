/**
 * Event-loop stalls split by the kernel's accounting of the main thread (/proc/…/schedstat: time on a core, time waiting
 * for one): on a shared machine a stall is partly the process waiting for a core, which no change to Hearth removes.
 * `max`: of the stalls a 5 ms timer sees (its gaps over 20 ms), the most time the main thread spent on a core in one;
 * `wallOfMax`: that stall's wall time. For bench/farm-server.ts and bench/hearth-main.ts.
 */
import { readFileSync } from 'node:fs';

export interface CoreStalls { max: number; wallOfMax: number }

export function watchCoreStalls(): { read(): CoreStalls; reset(): void } {
  const schedstat = `/proc/self/task/${process.pid}/schedstat`;
  const onCpuMs = () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6;
  let worst: CoreStalls = { max: 0, wallOfMax: 0 };
  let last = { at: performance.now(), cpu: onCpuMs() };
  setInterval(() => {
    const now = { at: performance.now(), cpu: onCpuMs() };
    const cpu = now.cpu - last.cpu;
    if (now.at - last.at > 20 && cpu > worst.max) worst = { max: cpu, wallOfMax: now.at - last.at };
    last = now;
  }, 5).unref();
  return { read: () => worst, reset: () => { worst = { max: 0, wallOfMax: 0 }; } };
}
