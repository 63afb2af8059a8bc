/** kill -9 in the middle of a write load: every acknowledged revision is there after restart. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '../../test/helpers/hearth.js';
import { startServer } from '../../test/helpers/crash.js';

describe('durability', () => {
  it('keeps every acknowledged write across kill -9', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-crash-'));
    try {
      const s = await startServer(dataDir);
      const acked = new Map<string, string>();
      let stop = false;
      const writer = async (w: number) => {
        for (let i = 0; !stop; i++) {
          const id = `w${w}-${i}`;
          try {
            const res = await rawRequest(s.port, 'PUT', `/data/io.cozy.crash/${id}`, { host: s.domain, token: s.token, body: { w, i, pad: 'x'.repeat(200) } });
            if (res.status === 200) acked.set(id, res.body.rev as string);
          } catch {
            return; // connection cut by the kill: not acknowledged
          }
        }
      };
      const writers = Array.from({ length: 16 }, (_, w) => writer(w));
      // kill in the middle of the load: once enough writes are acknowledged (bounded wait on a busy machine)
      for (let waited = 0; acked.size < 200 && waited < 15_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      s.child.kill('SIGKILL');
      stop = true;
      await Promise.all(writers);
      expect(acked.size).toBeGreaterThan(50);

      const again = await startServer(dataDir, s.port);
      try {
        const all = await rawRequest(again.port, 'GET', '/data/io.cozy.crash/_all_docs', { host: again.domain, token: again.token });
        const revs = new Map<string, string>(all.body.rows.map((r: { id: string; value: { rev: string } }) => [r.id, r.value.rev]));
        const lost = [...acked].filter(([id, rev]) => revs.get(id) !== rev);
        expect(lost).toEqual([]);
      } finally {
        again.child.kill('SIGTERM');
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
