/** PouchDB 9 (the real client) replicating with /data over HTTP, token as the Basic password. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { localDb, remoteDb, type Pouch } from '../../test/helpers/pouch.js';

let h: TestHearth;
let token: string;

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken('io.cozy.pouch io.cozy.pouch.sync io.cozy.pouch.live io.cozy.pouch.filter io.cozy.pouch.resume');
});
afterAll(() => h.close());

const remote = (doctype: string): Pouch => remoteDb(`${h.url}/data/${doctype}`, token);

async function allDocs(db: Pouch) {
  const res = await db.allDocs({ include_docs: true, conflicts: true });
  return res.rows.map((r: { doc: Record<string, unknown> }) => r.doc);
}

describe('PouchDB replication', () => {
  it('pushes 5,000 docs and pulls them into a fresh db, identical', async () => {
    const source = localDb();
    const docs = Array.from({ length: 5000 }, (_, i) => ({ _id: `doc-${String(i).padStart(5, '0')}`, n: i, tags: ['a', i % 7], nested: { s: `é${i}` } }));
    await source.bulkDocs(docs);
    const push = await source.replicate.to(remote('io.cozy.pouch'));
    expect(push.ok).toBe(true);
    expect(push.docs_written).toBe(5000);
    const target = localDb();
    const pull = await target.replicate.from(remote('io.cozy.pouch'));
    expect(pull.ok).toBe(true);
    expect(pull.docs_written).toBe(5000);
    expect(await allDocs(target)).toEqual(await allDocs(source));
    const info = await remote('io.cozy.pouch').info();
    expect(info.doc_count).toBe(5000);
  });

  it('resolves conflicting edits to the same winner and _conflicts on both sides', async () => {
    const a = localDb();
    const server = remote('io.cozy.pouch.sync');
    await a.put({ _id: 'shared', v: 0 });
    await a.sync(server);
    const b = localDb();
    await b.replicate.from(server);
    const docA = await a.get('shared');
    await a.put({ ...docA, v: 'edited on A' });
    const fromServer = await server.get('shared');
    await server.put({ ...fromServer, v: 'edited on the server' });
    await a.sync(server);
    await b.sync(server);
    const local = await a.get('shared', { conflicts: true });
    const onServer = await server.get('shared', { conflicts: true });
    const onB = await b.get('shared', { conflicts: true });
    expect(local._rev).toBe(onServer._rev);
    expect(onB._rev).toBe(onServer._rev);
    expect(local._conflicts).toEqual(onServer._conflicts);
    expect(onServer._conflicts).toHaveLength(1);
    expect(local.v).toBe(onServer.v);
  });

  it('live sync is woken by a server-side write (not by the end of its 60 s long poll)', async () => {
    const local = localDb();
    const server = remote('io.cozy.pouch.live');
    await server.put({ _id: 'first', v: 1 });
    const sync = local.sync(server, { live: true, retry: false });
    try {
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('initial sync did not happen')), 10_000);
        sync.on('paused', () => { clearTimeout(t); resolve(); });
        sync.on('error', reject);
      });
      const seen = new Promise<string>((resolve) => {
        local.changes({ since: 'now', live: true, include_docs: true }).on('change', (c: { id: string }) => {
          if (c.id === 'second') resolve(c.id);
        });
      });
      await h.req('PUT', '/data/io.cozy.pouch.live/second', { token, body: { v: 2 } });
      // the open long poll ends at the write; unwoken, it would end only at the server's 60 s (data.changesTimeoutMs)
      let unwoken: NodeJS.Timeout | undefined;
      const tooLate = new Promise<string>((resolve) => (unwoken = setTimeout(() => resolve('the long poll was not woken'), 30_000)));
      expect(await Promise.race([seen, tooLate])).toBe('second');
      clearTimeout(unwoken);
    } finally {
      sync.cancel();
    }
  });

  it('pulls with a selector filter and with doc_ids', async () => {
    const server = remote('io.cozy.pouch.filter');
    await server.bulkDocs(Array.from({ length: 40 }, (_, i) => ({ _id: `f${i}`, kind: i % 2 ? 'odd' : 'even', i })));
    const bySelector = localDb();
    await bySelector.replicate.from(server, { selector: { kind: 'odd', i: { $gte: 10 } } });
    const ids = (await bySelector.allDocs()).rows.map((r: { id: string }) => r.id);
    expect(ids.sort()).toEqual(Array.from({ length: 40 }, (_, i) => i).filter((i) => i % 2 && i >= 10).map((i) => `f${i}`).sort());
    const byIds = localDb();
    await byIds.replicate.from(server, { doc_ids: ['f1', 'f2', 'nope'] });
    expect((await byIds.allDocs()).rows.map((r: { id: string }) => r.id)).toEqual(['f1', 'f2']);
  });

  it('resumes from its checkpoint after the server restarts', async () => {
    const server = remote('io.cozy.pouch.resume');
    await server.bulkDocs(Array.from({ length: 300 }, (_, i) => ({ _id: `r${String(i).padStart(3, '0')}` })));
    const local = localDb();
    const first = await local.replicate.from(server);
    expect(first.docs_read).toBe(300);
    await h.restart();
    await h.req('PUT', '/data/io.cozy.pouch.resume/after-restart', { token, body: {} });
    const second = await local.replicate.from(remote('io.cozy.pouch.resume'));
    expect(second.ok).toBe(true);
    expect(second.docs_read).toBe(1); // from the checkpoint, not from 0
    expect((await local.info()).doc_count).toBe(301);
  });
});
