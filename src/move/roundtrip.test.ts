/**
 * Export then import between two real servers (issue 17's round trip): a rich instance on server A (documents of many
 * doctypes with conflicts and attachments, a tree of files with versions, trash, tags, references, a thumbnail, settings,
 * OAuth clients, a trigger, a konnector account) is exported through the routes of the contract, and imported from its
 * settings link into a fresh instance of server B. Then every document of every doctype is compared (less `_rev`, which
 * the contract drops, and what the contract says is the target's own), every file's content by MD5, and the trigger
 * did not fire during the import.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, upload } from '../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { fillRichInstance } from '../../test/helpers/migrate-engines.js';
import { jpegWithExif } from '../../test/helpers/images.js';
import type { DocStore } from '../data/store.js';

let a: TestHearth;
let b: TestHearth;
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('base64');

/** What the contract does not carry, or gives the target its own of (cozy-move.md §2). */
const NOT_CARRIED = new Set(['io.cozy.apps', 'io.cozy.konnectors', 'io.cozy.permissions', 'io.cozy.jobs', 'io.cozy.triggers', 'io.cozy.sessions', 'io.cozy.exports', 'io.cozy.settings']);

async function everything(store: DocStore): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  for (const doctype of await store.listDoctypes()) {
    if (NOT_CARRIED.has(doctype)) continue;
    const rows = (await store.allDocs(doctype, { include_docs: true, skipDesign: true })).rows as Array<{ id: string; doc?: Record<string, unknown> }>;
    const docs = new Map<string, Record<string, unknown>>();
    for (const row of rows) {
      if (!row.doc) continue;
      const { _rev, ...rest } = row.doc;
      void _rev;
      docs.set(row.id, rest);
    }
    if (docs.size) out.set(doctype, docs);
  }
  return out;
}

describe('export from one server, import into another', () => {
  let token: string;
  let files: Record<string, string>;

  beforeAll(async () => {
    [a, b] = await Promise.all([startTestHearth(), startTestHearth({ imports: { allowPrivateUrls: true } })]);
    token = await a.cliToken('io.cozy.contacts io.cozy.files io.cozy.bank.operations io.cozy.bills io.cozy.home.settings io.cozy.accounts io.cozy.exports');
    files = await fillRichInstance(a, token, { photo: true });
    // documents of more doctypes, one with an attachment
    const ops = Array.from({ length: 120 }, (_, i) => ({ _id: `op${i}`, amount: -i, label: `Shop ${i}`, date: '2026-11-01' }));
    expect((await a.req('POST', '/data/io.cozy.bank.operations/_bulk_docs', { token, body: { docs: ops } })).status).toBe(201);
    const bill = { _id: 'bill1', vendor: 'Power', amount: 42, _attachments: { 'note.txt': { content_type: 'text/plain', data: Buffer.from('paid in full').toString('base64') } } };
    expect((await a.req('POST', '/data/io.cozy.bills/_bulk_docs', { token, body: { docs: [bill] } })).status).toBe(201);
    expect((await a.req('PUT', '/data/io.cozy.home.settings/prefs', { token, body: { wallpaper: 'forest', order: ['drive', 'store'] } })).status).toBe(200);
    // a tree with tags and references; a file in the trash
    const photos = await a.req('POST', `/files/${ROOT}?Type=directory&Name=Photos`, { token });
    const trip = await a.req('POST', `/files/${photos.body.data.id}?Type=directory&Name=Trip%202026`, { token });
    const beach = await upload(a, token, trip.body.data.id, 'beach.txt', 'waves');
    files.beach = beach.id;
    expect((await a.req('PATCH', `/files/${beach.id}`, { token, body: { data: { type: 'io.cozy.files', id: beach.id, attributes: { tags: ['summer', 'sea'] } } } })).status).toBe(200);
    expect((await a.req('POST', `/files/${beach.id}/relationships/referenced_by`, { token, body: { data: [{ type: 'io.cozy.photos.albums', id: 'album1' }] } })).status).toBeLessThan(300);
    const gone = await upload(a, token, ROOT, 'old.txt', 'thrown away');
    files.trashed = gone.id;
    expect((await a.req('DELETE', `/files/${gone.id}`, { token })).status).toBe(200);
    // an OAuth client, a konnector account (its secret stored sealed), a trigger on new files
    expect((await a.req('POST', '/auth/register', { body: { redirect_uris: ['https://app.example/cb'], client_name: 'Desktop', software_id: 'desktop' } })).status).toBe(201);
    expect((await a.req('POST', '/data/io.cozy.accounts/', { token, body: { account_type: 'bank', auth: { login: 'alice', password: 's3cret' } } })).status).toBe(201);
    // the owner's avatar (Hearth's addition to the layout: My Cozy/Data/avatar)
    const avatar = await a.req('PUT', '/settings/avatar', { token: await a.cliToken('io.cozy.settings'), raw: await jpegWithExif(640, 480), headers: { 'content-type': 'image/jpeg' } });
    expect(avatar.status).toBe(204);
    // Home's wallpaper, beside it (My Cozy/Data/wallpaper)
    const wallpaper = await a.req('PUT', '/settings/wallpaper', { token: await a.cliToken('io.cozy.settings'), raw: await jpegWithExif(1200, 800), headers: { 'content-type': 'image/jpeg' } });
    expect(wallpaper.status).toBe(204);
    await a.hearth.jobs.scheduler.create(a.domain, { type: '@event', arguments: 'io.cozy.files:CREATED', worker: 'log', message: { from: 'trigger' } });
  }, 300_000);

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('carries every document and every file, and fires no trigger while it imports', async () => {
    expect((await a.req('POST', '/move/exports', { token, body: { data: { attributes: {} } } })).status).toBe(201);
    await expect.poll(async () => (await a.hearth.exports.list(a.instance))[0]?.state, { timeout: 120_000, interval: 200 }).toBe('done');
    const exported = (await a.hearth.exports.list(a.instance))[0]!;
    const link = await a.hearth.exports.linkOf(a.instance, exported._id);

    const bToken = await b.cliToken('io.cozy.imports', b.instance);
    expect((await b.req('POST', '/move/imports/precheck', { token: bToken, body: { data: { attributes: { url: link } } } })).status).toBe(204);
    const started = await b.req('POST', '/move/imports', { token: bToken, body: { data: { attributes: { url: link } } } });
    expect(started.status).toBe(303);
    await expect.poll(async () => b.hearth.moveStates.get(b.instance.id), { timeout: 240_000, interval: 250 }).toBeNull();

    // every document of every doctype, less _rev (the file documents: their blob keys are the target's own)
    const [before, after] = await Promise.all([everything(a.hearth.storeOf(a.instance)), everything(b.hearth.storeOf(b.instance))]);
    expect([...after.keys()].sort().join(" ")).toBe([...before.keys()].sort().join(" "));
    for (const [doctype, docs] of before) {
      const there = after.get(doctype)!;
      expect([...there.keys()].sort(), doctype).toEqual([...docs.keys()].sort());
      for (const [id, doc] of docs) {
        const other = { ...there.get(id)! };
        const mine = { ...doc };
        // the storage keys are the target's own; thumbnails are not exported but made again (cozy-move.md §1)
        if (doctype === 'io.cozy.files' || doctype === 'io.cozy.files.versions') {
          for (const d of [mine, other]) {
            delete d.internal_vfs_id;
            delete d.internal_thumbnails;
          }
        }
        if (doctype === 'io.cozy.contacts' && (mine as { me?: boolean }).me) continue;
        // the root and the trash are the target's own (the contract skips them)
        if (doctype === 'io.cozy.files' && (id === 'io.cozy.files.root-dir' || id === 'io.cozy.files.trash-dir')) continue;
        expect(other, `${doctype}/${id}`).toEqual(mine);
      }
    }
    expect(before.get('io.cozy.bank.operations')?.size).toBe(120);

    // the contents, by MD5, with the old versions
    const aToken = await a.cliToken('io.cozy.files');
    const bFiles = await b.cliToken('io.cozy.files', b.instance);
    for (const [name, id] of Object.entries(files)) {
      const [x, y] = await Promise.all([a.req('GET', `/files/download/${id}`, { token: aToken }), b.req('GET', `/files/download/${id}`, { token: bFiles })]);
      expect(y.status, name).toBe(200);
      expect(md5(Buffer.from(y.text, 'latin1')), name).toBe(md5(Buffer.from(x.text, 'latin1')));
    }
    const note = await b.req('GET', `/files/${files.note}`, { token: bFiles });
    const versions = (note.body.data.relationships?.old_versions?.data ?? []) as Array<{ id: string }>;
    expect(versions).toHaveLength(1);
    expect((await b.req('GET', `/files/download/${files.note}/${versions[0]!.id.split('/')[1]}`, { token: bFiles })).text).toBe('first version');
    expect((await b.req('GET', `/files/${files.trashed}`, { token: bFiles })).body.data.attributes.trashed).toBe(true);
    // the photo's thumbnail, made again on the target
    let small: string | undefined;
    await expect.poll(async () => (small = (await b.req('GET', `/files/${files.photo}`, { token: bFiles })).body.data.links?.small as string | undefined), { timeout: 60_000, interval: 200 }).toBeTruthy();
    expect((await b.req('GET', small!, { token: bFiles })).status).toBe(200);

    // the konnector account reads the same through the API (sealed again with the target's secret)
    const accA = await a.req('GET', '/data/io.cozy.accounts/_all_docs?include_docs=true', { token });
    const accB = await b.req('GET', '/data/io.cozy.accounts/_all_docs?include_docs=true', { token: await b.cliToken('io.cozy.accounts', b.instance) });
    const auth = (r: typeof accA) => (r.body.rows as Array<{ doc: { auth?: unknown } }>).map((row) => row.doc.auth);
    expect(auth(accB)).toEqual(auth(accA));

    // the avatar came along (checked and stored again as an upload is)
    const [avA, avB] = await Promise.all([a.req('GET', '/public/avatar?fallback=404'), b.req('GET', '/public/avatar?fallback=404')]);
    expect(avB.status).toBe(200);
    expect(avB.headers['content-type']).toBe(avA.headers['content-type']);
    // and the wallpaper (the same image: it is stored again as it was exported, already within its limits)
    const wall = async (h: typeof a) => h.req('GET', '/settings/wallpaper', { token: await h.cliToken('io.cozy.settings:GET', h.instance) });
    const [wA, wB] = await Promise.all([wall(a), wall(b)]);
    expect(wB.status).toBe(200);
    expect(wB.headers['content-type']).toBe(wA.headers['content-type']);
    // the trigger is there, created last: no job of it ran for the files the import created
    const triggers = await b.hearth.jobs.scheduler.list(b.domain, {});
    expect(triggers.filter((t) => t.worker === 'log')).toHaveLength(1);
    expect(await b.hearth.jobs.engine.broker.list(b.domain, { worker: 'log', limit: 100 })).toEqual([]);
  }, 600_000);
});
