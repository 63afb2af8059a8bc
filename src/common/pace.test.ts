import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { pace } from './pace.js';

/** Keeps the event loop busy for `ms` of wall time. */
function busy(ms: number): void {
  const start = performance.now();
  while (performance.now() - start < ms) { /* spinning */ }
}

describe('pace', () => {
  it('lets paced work go on within the budget of a turn of the event loop', async () => {
    await nextTurn();
    const order: string[] = [];
    setImmediate(() => order.push('next turn'));
    for (let i = 0; i < 3; i++) await pace(60_000);
    order.push('paced');
    await nextTurn();
    expect(order).toEqual(['paced', 'next turn']);
  });

  it('yields to the next turn once the turn spent its budget, and starts a new budget there', async () => {
    await nextTurn();
    const order: string[] = [];
    await pace(5); // the turn's first: its budget starts
    setImmediate(() => order.push('next turn'));
    busy(10);
    await pace(5);
    order.push('paced');
    expect(order).toEqual(['next turn', 'paced']);
    setImmediate(() => order.push('the turn after'));
    await pace(60_000); // a new turn, a new budget: at once
    order.push('paced again');
    expect(order).toEqual(['next turn', 'paced', 'paced again']);
  });

  it('shares the budget among the loops that pace in the same turn', async () => {
    await nextTurn();
    const order: string[] = [];
    setImmediate(() => order.push('next turn'));
    const loop = async (name: string) => {
      await pace(5);
      busy(4);
      await pace(5);
      order.push(name);
    };
    await Promise.all([loop('a'), loop('b')]);
    // b's own work took 4 ms, within the budget, but a's 4 ms came first in that turn: b waits for the next one
    expect(order.indexOf('next turn')).toBeLessThan(order.indexOf('b'));
    expect(order).toHaveLength(3);
  });
});
