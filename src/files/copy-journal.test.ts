/** The journal of folder copies (copy-journal.ts): what a start undoes, and what it leaves alone. */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CopyJournal, undoCutCopies } from './copy-journal.js';
import { ROOT_DIR_ID } from './types.js';

let h: TestHearth;
let journal: CopyJournal;
beforeAll(async () => {
  h = await startTestHearth();
});
afterAll(() => h.close());

const undo = () => undoCutCopies({ journal, fs: h.hearth.vfs.fs, tree: h.hearth.vfs.tree, instanceOf: (d) => h.hearth.registry.get(d), logger: pino({ level: 'silent' }) });
const exists = async (id: string) => h.hearth.vfs.fs.stat(h.instance, id).then(() => true, () => false);

describe('undoing the folder copies a stop cut short', () => {
  it('removes a working folder found by its id or by its name, keeps a finished (renamed) copy and what another instance holds', async () => {
    journal = new CopyJournal(join(h.dataDir, 'copies-test'));
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
    mkdirSync(journal.dir, { recursive: true });
    writeFileSync(join(journal.dir, 'half.json.tmp'), '{"instan');
    writeFileSync(join(journal.dir, 'broken.json'), 'not json');

    expect(await undo()).toBe(2);
    expect(await exists(cut._id)).toBe(false);
    expect(await exists(unnamed._id)).toBe(false);
    expect(await exists(finished._id)).toBe(true);
    expect(await exists(elsewhere._id)).toBe(true);
    expect(readdirSync(journal.dir)).toEqual([]);
    expect(await undo()).toBe(0);
  });

  it('is empty once a copy is whole', async () => {
    const token = await h.cliToken('io.cozy.files');
    const top = await h.req('POST', '/files/io.cozy.files.root-dir?Type=directory&Name=journaled', { token });
    await h.req('POST', `/files/${top.body.data.id}?Type=file&Name=x.txt`, { token, raw: 'x', headers: { 'content-type': 'text/plain' } });
    expect((await h.req('POST', `/files/${top.body.data.id}/copy`, { token })).status).toBe(201);
    expect(readdirSync(join(h.dataDir, 'copies'))).toEqual([]);
  });
});
