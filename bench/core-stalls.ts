/**
 * Event-loop stalls split by the kernel's accounting of the main thread (/proc/…/schedstat: time on a core, time waiting
 * for one): on a shared machine a stall is partly the process waiting for a core, which no change to Hearth removes.
 * `max`: of the stalls a 5 ms timer sees (its gaps over 20 ms), the most time the main thread spent on a core in one;
 * `wallOfMax`: that stall's wall time; `endOfMax`: when it ended (performance.now()); `top`: the TOP stalls with the most
 * time on a core, the largest first (to set beside what else ran then: garbage collection in bench/farm-server.ts).
 * For bench/farm-server.ts and bench/hearth-main.ts.
 */
import { readFileSync } from 'node:fs';

export interface CoreStall { cpu: number; wall: number; end: number }
export interface CoreStalls { max: number; wallOfMax: number; endOfMax: number; top: CoreStall[] }

const TOP = 5;

export function watchCoreStalls(): { read(): CoreStalls; reset(): void } {
  const schedstat = `/proc/self/task/${process.pid}/schedstat`;
  const onCpuMs = () => Number(readFileSync(schedstat, 'utf8').split(' ')[0]) / 1e6;
  let top: CoreStall[] = [];
  let last = { at: performance.now(), cpu: onCpuMs() };
  setInterval(() => {
    const now = { at: performance.now(), cpu: onCpuMs() };
    const cpu = now.cpu - last.cpu;
    if (now.at - last.at > 20 && (top.length < TOP || cpu > top[TOP - 1]!.cpu)) {
      top = [...top, { cpu, wall: now.at - last.at, end: now.at }].sort((a, b) => b.cpu - a.cpu).slice(0, TOP);
    }
    last = now;
  }, 5).unref();
  return {
    read: () => ({ max: top[0]?.cpu ?? 0, wallOfMax: top[0]?.wall ?? 0, endOfMax: top[0]?.end ?? 0, top }),
    reset: () => { top = []; },
  };
}
