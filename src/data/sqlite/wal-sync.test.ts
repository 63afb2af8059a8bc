/** WalSync on real files: waits for an fdatasync started after the call, shares it between callers. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WalSync } from './wal-sync.js';

const dir = mkdtempSync(join(tmpdir(), 'hearth-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('WalSync', () => {
  it('resolves at once when there is no WAL file yet, without a sync', async () => {
    const w = new WalSync(join(dir, 'none-wal'));
    await w.sync();
    expect(w.syncs).toBe(0);
    w.close();
  });

  it('coalesces callers that come while a sync runs into the next one, and each caller waits for a sync started after it', async () => {
    const file = join(dir, 'a-wal');
    writeFileSync(file, 'frames');
    const w = new WalSync(file);
    const order: string[] = [];
    const first = w.sync().then(() => order.push('first'));
    // these come while the first fdatasync runs: they share the second one
    const later = Array.from({ length: 20 }, (_, i) => w.sync().then(() => order.push(`later${i}`)));
    await Promise.all([first, ...later]);
    expect(order[0]).toBe('first');
    expect(order).toHaveLength(21);
    expect(w.syncs).toBe(2);
    await w.sync();
    expect(w.syncs).toBe(3);
    w.close();
  });

  it('rejects the waiters when the WAL cannot be opened for another reason', async () => {
    const w = new WalSync(join(dir, 'a-wal', 'not-a-dir'));
    await expect(w.sync()).rejects.toThrow(/ENOTDIR/);
    w.close();
  });
});
