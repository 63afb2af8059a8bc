/**
 * Background work in short slices of the event loop (issue 13: no maintenance work blocks it over 50 ms).
 *
 * A loop of background work (the cleaning jobs, the job queue's claims) awaits `pace()` between two items: it resolves
 * at once while the current turn of the event loop has run for less than `budgetMs` of wall time since the first
 * `pace()` of that turn, and otherwise at the next turn (setImmediate), so that requests and timers come in between.
 * Wall time, not a count of items: an item's cost varies with its size and with the machine's load (on a loaded machine
 * the same SQLite statement takes several times longer), and what a request waits is wall time. The budget is shared
 * by every loop that paces in the same turn: ten jobs that each take 3 ms of synchronous work in one turn (their
 * awaited promises resolved together) yield once the budget is spent, not after 30 ms.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Default wall time (ms) that paced work may take in one turn of the event loop. */
export const PACE_BUDGET_MS = 5;

let turnStart = 0;
let turnEnds: NodeJS.Immediate | null = null;

/** Resolves now while this turn's paced work is within `budgetMs` (see above), otherwise at the next turn. */
export async function pace(budgetMs = PACE_BUDGET_MS): Promise<void> {
  const now = performance.now();
  if (!turnEnds) {
    turnStart = now;
    turnEnds = setImmediate(() => {
      turnEnds = null;
    });
    return;
  }
  if (now - turnStart < budgetMs) return;
  await nextTurn();
}
