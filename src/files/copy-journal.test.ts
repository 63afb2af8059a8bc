/**
 * The journal of folder copies (copy-journal.ts) in the embedded mode (copy-journal-sqlite.ts): the conformance suite,
 * then what a start undoes and what it leaves alone, and the entries of the former journal (one JSON file per copy).
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCopyJournal } from '../../test/helpers/copy-journal-suite.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { planDirCopy } from './copy.js';
import { CopyJournal, undoCutCopies } from './copy-journal.js';
import { SqliteCopyJournalStore } from './copy-journal-sqlite.js';
import { ROOT_DIR_ID } from './types.js';

const scratch = mkdtempSync(join(tmpdir(), 'hearth-copy-journal-'));
let files = 0;
describeCopyJournal('SQLite', {
  storage: async () => join(scratch, `copies-${++files}.sqlite`),
  open: (file) => new SqliteCopyJournalStore(file),
});

describe('the sweep of ended leases on SQLite', () => {
  it('searches the lease index', async () => {
    const file = join(scratch, 'plan.sqlite');
    await new SqliteCopyJournalStore(file).close();
    const db = new Database(file, { readonly: true });
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT id FROM copies WHERE lease_until < ? ORDER BY lease_until LIMIT 20').all(Date.now()) as Array<{ detail: string }>;
    db.close();
    expect(plan.map((r) => r.detail)).toEqual(['SEARCH copies USING INDEX copies_lease (lease_until<?)']);
  });
});

let h: TestHearth;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(async () => {
  for (const j of opened) await j.close();
  await h.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** The journal of a process started again on the data directory (its entries are all from a stopped process). */
const opened: CopyJournal[] = [];
const journalOn = (file: string, opts: { alone?: boolean; legacyDir?: string } = {}) => {
  const j = new CopyJournal(new SqliteCopyJournalStore(file, opts));
  opened.push(j);
  return j;
};
const restarted = (file: string, legacyDir?: string) => journalOn(file, { alone: true, ...(legacyDir ? { legacyDir } : {}) });
const undo = (journal: CopyJournal) => undoCutCopies({ journal, fs: h.hearth.vfs.fs, tree: h.hearth.vfs.tree, instanceOf: (d) => h.hearth.registry.get(d), logger: pino({ level: 'silent' }) });
const exists = async (id: string) => h.hearth.vfs.fs.stat(h.instance, id).then(() => true, () => false);

describe('undoing the folder copies a stop cut short', () => {
  it('removes a working folder found by its id or by its name, keeps a finished (renamed) copy and what another instance holds', async () => {
    const file = join(scratch, 'undo.sqlite');
    const journal = journalOn(file);
    const { fs } = h.hearth.vfs;
    const mark = { instanceId: h.instance.id, domain: h.domain, parentId: ROOT_DIR_ID };
    const cut = await fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'a (copy) (incomplete copy)' });
    await fs.createDir(h.instance, { dirId: cut._id, name: 'inside' });
    await (await journal.begin({ ...mark, workingName: cut.name })).made(cut._id);
    const unnamed = await fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'b (copy) (incomplete copy)' });
    await journal.begin({ ...mark, workingName: unnamed.name }); // killed before its id was recorded
    const finished = await fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'c (copy)' }); // renamed, then killed before the entry was removed
    await (await journal.begin({ ...mark, workingName: 'c (copy) (incomplete copy)' })).made(finished._id);
    const elsewhere = await fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'd (copy) (incomplete copy)' });
    await journal.begin({ ...mark, instanceId: 'an instance since destroyed', workingName: elsewhere.name });
    // the process "dies" (stops renewing): its leases still run, and another look at the journal takes nothing yet
    expect(await undo(journalOn(file))).toBe(0);
    expect(await exists(cut._id)).toBe(true);

    const again = restarted(file);
    expect(await undo(again)).toBe(2);
    expect(await exists(cut._id)).toBe(false);
    expect(await exists(unnamed._id)).toBe(false);
    expect(await exists(finished._id)).toBe(true);
    expect(await exists(elsewhere._id)).toBe(true);
    expect(await undo(restarted(file))).toBe(0);
  });

  it('takes over the entries of the former journal (copies/*.json), then removes its folder', async () => {
    const legacy = join(scratch, 'copies');
    mkdirSync(legacy);
    const cut = await h.hearth.vfs.fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'e (copy) (incomplete copy)' });
    writeFileSync(join(legacy, 'b2f0a7b4-0c53-4d1c-9e0b-2f1d0c7e9a11.json'), JSON.stringify({ instanceId: h.instance.id, domain: h.domain, parentId: ROOT_DIR_ID, workingName: cut.name, topId: cut._id }));
    writeFileSync(join(legacy, 'half.json.tmp'), '{"instan');
    writeFileSync(join(legacy, 'broken.json'), 'not json');
    const journal = restarted(join(scratch, 'legacy.sqlite'), legacy);
    expect(existsSync(legacy)).toBe(false);
    expect(await undo(journal)).toBe(1);
    expect(await exists(cut._id)).toBe(false);
  });

  it('stops a copy whose lease was taken over (its process thought dead), and the one that took it removes the folder', async () => {
    const { fs, tree } = h.hearth.vfs;
    const top = await fs.createDir(h.instance, { dirId: ROOT_DIR_ID, name: 'slow' });
    for (let i = 0; i < 3; i++) await h.req('POST', `/files/${top._id}?Type=file&Name=s${i}.txt`, { token: await h.cliToken('io.cozy.files'), raw: `s${i}`, headers: { 'content-type': 'text/plain' } });
    const file = join(scratch, 'taken.sqlite');
    const clock = { t: Date.now() };
    const [mine, other] = [new CopyJournal(new SqliteCopyJournalStore(file), { now: () => clock.t }), new CopyJournal(new SqliteCopyJournalStore(file), { now: () => clock.t })];
    opened.push(mine, other);
    const plan = await planDirCopy(tree, fs, h.instance, top._id, {}, mine);
    let undone = -1;
    await expect(plan.run({
      onProgress: async (p) => {
        if (p.files !== 1 || undone >= 0) return;
        clock.t += mine.leaseMs + 1; // a pause longer than the lease: another process takes the entry over
        undone = await undo(other);
        await mine.renew(); // finds it no longer its own
      },
    })).rejects.toThrow(/lease was taken over/);
    expect(undone).toBe(1);
    expect((await fs.children(h.instance, ROOT_DIR_ID, { limit: 100 })).docs.map((d) => d.name).filter((n) => n.startsWith('slow'))).toEqual(['slow']);
  });

  it('is empty once a copy is whole', async () => {
    const token = await h.cliToken('io.cozy.files');
    const top = await h.req('POST', '/files/io.cozy.files.root-dir?Type=directory&Name=journaled', { token });
    await h.req('POST', `/files/${top.body.data.id}?Type=file&Name=x.txt`, { token, raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect((await h.req('POST', `/files/${top.body.data.id}/copy`, { token })).status).toBe(201);
    const later = new CopyJournal(new SqliteCopyJournalStore(join(h.dataDir, 'copies.sqlite')), { now: () => Date.now() + 3_600_000 });
    opened.push(later);
    expect(await later.claimExpired()).toEqual([]);
  });
});
