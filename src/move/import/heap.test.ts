/**
 * The old generation's growth held small while imports run (./heap.ts): set by the first import, put back by the last
 * one to end, failed or not; and left alone where node was started with its own setting.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, withSmallHeapGrowth } from './heap.js';

describe('the heap growth of an import', () => {
  const saved = process.env.NODE_OPTIONS;
  afterEach(() => {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  });

  it('is held from the first import that starts to the last one that ends, failed or not', async () => {
    const set: string[] = [];
    const record = (f: string) => set.push(f);
    let endFirst!: () => void;
    const first = withSmallHeapGrowth(() => new Promise<void>((r) => (endFirst = r)), record);
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
    const second = withSmallHeapGrowth(() => Promise.reject(new Error('broken archive')), record);
    await expect(second).rejects.toThrow('broken archive');
    // the first one still runs: still held
    expect(set).toHaveLength(1);
    endFirst();
    await first;
    expect(set).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--heap-growing-percent=0']);
    await expect(withSmallHeapGrowth(async () => 42, record)).resolves.toBe(42);
    expect(set).toHaveLength(4);
  });

  it('leaves an operator\'s own setting as it is', async () => {
    process.env.NODE_OPTIONS = '--heap-growing-percent=50';
    const set: string[] = [];
    await withSmallHeapGrowth(async () => undefined, (f) => set.push(f));
    expect(set).toEqual([]);
  });
});
