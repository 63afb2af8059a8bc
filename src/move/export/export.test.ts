/**
 * Exports on a real server: POST /move/exports, the job, the MAC routes and the zip of each part, entry by entry in the
 * layout of src/move/layout.ts; the refusals; the mail with the link; the admin routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../config/schema.js';
import { listOutbox, mailsOf, outboxDir, readOutboxMail } from '../../mail/outbox.js';
import { readMail } from '../../mail/mime-read.js';
import { ROOT, md5, mkdir, upload } from '../../../test/helpers/files.js';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';
import { exportEnded, getBinary, readZip, type ZipEntry } from '../../../test/helpers/export.js';
import { until } from '../../../test/helpers/jobs.js';
import { docEntry, fileContentEntry, INSTANCE_ENTRY, parseDataEntry, parseFileEntry, versionContentEntry } from '../layout.js';
import type { ExportDoc } from '../types.js';
import { encodeExportMac } from './mac.js';

let h: TestHearth;
let token = '';
let files = '';
const ids: Record<string, string> = {};
const contents: Record<string, Buffer> = {};
beforeAll(async () => {
  h = await startTestHearth({ files: { ...DEFAULTS.files, versions: { max: 20, minDelayMs: 0 } } }, { exports: { minPartSize: 1000, sweepMs: 0 } });
  token = await h.cliToken('io.cozy.exports');
  files = await h.cliToken('io.cozy.files io.cozy.contacts');
  await h.hearth.registry.modify(h.domain, { email: 'owner@example.org' });
  for (let i = 0; i < 3; i++) expect((await h.req('POST', '/data/io.cozy.contacts/', { token: files, body: { fullname: `Contact ${i}` } })).status).toBe(201);
  const docs = await mkdir(h, files, ROOT, 'Documents');
  ids.docs = docs.id;
  const sub = await mkdir(h, files, docs.id, 'Sub dir');
  ids.sub = sub.id;
  for (const [name, dir, size] of [['a.txt', docs.id, 600], ['b.bin', sub.id, 700], ['c.txt', ROOT, 300], ['d.txt', sub.id, 900], ['gone.txt', ROOT, 10]] as const) {
    contents[name] = Buffer.alloc(size, name);
    ids[name] = (await upload(h, files, dir, name, contents[name])).id;
  }
  // a new content for a.txt: its first content becomes a version
  contents['a.txt v2'] = Buffer.from('second content of a');
  expect((await h.req('PUT', `/files/${ids['a.txt']}`, { token: files, raw: contents['a.txt v2'] })).status).toBe(200);
  expect((await h.req('PATCH', `/files/${ids['c.txt']}`, { token: files, headers: { 'content-type': 'application/vnd.api+json' }, raw: JSON.stringify({ data: { type: 'io.cozy.files', id: ids['c.txt'], attributes: { executable: true } } }) })).status).toBe(200);
  // a file whose blob is missing from the storage is left out
  const gone = await h.hearth.vfs.fs.stat(h.instance, ids['gone.txt']!);
  await h.hearth.vfs.fs.blobs.remove(h.instance.id, String(gone.internal_vfs_id));
});
afterAll(() => h.close());

const request = (t = token, attributes: Record<string, unknown> = {}) => h.req('POST', '/move/exports', { token: t, body: { data: { type: 'io.cozy.exports', attributes } } });
const download = (mac: string, cursor?: string) => getBinary(h.port, h.domain, `/move/exports/data/${mac}${cursor === undefined ? '' : `?cursor=${encodeURIComponent(cursor)}`}`);

describe('an export', () => {
  let exp: ExportDoc;
  let mac = '';
  const parts: ZipEntry[][] = [];

  it('is asked with POST /move/exports (201, no body), made by the job, announced by mail with the settings link', async () => {
    const res = await request(token, { parts_size: 1000 });
    expect(res.status).toBe(201);
    expect(res.text).toBe('');
    exp = await exportEnded(h);
    expect(exp).toMatchObject({ state: 'done', domain: h.domain, parts_size: 1000 });
    expect(exp.parts_cursors.length).toBeGreaterThanOrEqual(2);
    // every byte of the files and versions, the missing blob's announced size included
    expect(exp.total_size).toBe(600 + 700 + 300 + 900 + 10 + contents['a.txt v2']!.length);
    const dir = outboxDir(h.dataDir);
    await until(async () => mailsOf((await listOutbox(dir)) ?? [], h.instance).length > 0, 20_000);
    const mail = mailsOf((await listOutbox(dir)) ?? [], h.instance)[0]!;
    expect(mail.subject).toBe('Your data is ready to be downloaded');
    const text = readMail(await readOutboxMail(dir, mail.id)).text ?? '';
    const link = /http:\/\/settings\.localhost:\d+\/#\/exports\/([A-Za-z0-9_-]+)/.exec(text);
    expect(link).not.toBeNull();
    mac = link![1]!;
  });

  it('GET /move/exports/:mac answers the io.cozy.exports document', async () => {
    const res = await h.req('GET', `/move/exports/${mac}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('application/vnd.api+json');
    expect(res.body.data).toMatchObject({ type: 'io.cozy.exports', id: exp._id, attributes: { state: 'done', parts_cursors: exp.parts_cursors, total_size: exp.total_size } });
  });

  it('part 0 holds instance.json (no secrets), every document, every directory, then its files, each document followed by its content', async () => {
    const res = await download(mac);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/zip');
    expect(res.headers['content-disposition']).toBe('attachment; filename="My Cozy - part000.zip"');
    // the settings app may frame the download (cozy-stack's frame-ancestors rule), nothing else
    expect(res.headers['content-security-policy']).toBe(`default-src 'none'; frame-src 'none'; frame-ancestors http://settings.${h.domain}; base-uri 'none';`);
    const entries = await readZip(res.body);
    parts.push(entries);
    expect(entries[0]!.name).toBe(INSTANCE_ENTRY);
    const instanceDoc = JSON.parse(entries[0]!.data.toString()) as Record<string, unknown>;
    expect(instanceDoc).toMatchObject({ domain: h.domain, email: 'owner@example.org' });
    expect(instanceDoc).not.toHaveProperty('passphraseHash');
    expect(JSON.stringify(instanceDoc)).not.toContain('argon2');
    const names = entries.map((e) => e.name);
    const contacts = names.filter((n) => n.startsWith('My Cozy/Data/io.cozy.contacts/'));
    expect(contacts).toHaveLength(3);
    for (const id of [ROOT, ids.docs!, ids.sub!]) expect(names).toContain(docEntry('io.cozy.files', id));
    // no data entry is refused by the reader, and no file document of a file is before the directories
    for (const e of entries) expect(parseDataEntry(e.name) ?? parseFileEntry(e.name)).not.toBeNull();
    for (const e of entries) expect(e.mode & 0o777).toBe(e.name.endsWith('/c.txt') ? 0o750 : 0o640);
    const contact = JSON.parse(entries.find((e) => e.name === contacts[0])!.data.toString()) as Record<string, unknown>;
    expect(contact.fullname).toMatch(/^Contact \d$/);
  });

  it('the other parts hold the rest of the files then the versions; every file once, each document immediately followed by its content', async () => {
    for (const [i, cursor] of exp.parts_cursors.entries()) {
      const res = await download(mac, cursor);
      expect(res.status).toBe(200);
      expect(res.headers['content-disposition']).toBe(`attachment; filename="My Cozy - part${String(i + 1).padStart(3, '0')}.zip"`);
      const entries = await readZip(res.body);
      expect(entries.some((e) => e.name === INSTANCE_ENTRY)).toBe(false);
      parts.push(entries);
    }
    const all = parts.flat();
    const fileEntries = all.filter((e) => e.name.startsWith('My Cozy/Files/'));
    const expected = [
      fileContentEntry('/Documents/a.txt'), fileContentEntry('/Documents/Sub dir/b.bin'), fileContentEntry('/c.txt'), fileContentEntry('/Documents/Sub dir/d.txt'),
    ];
    const versionIds = all.filter((e) => e.name.startsWith('My Cozy/Data/io.cozy.files.versions/')).map((e) => (JSON.parse(e.data.toString()) as { _id: string })._id);
    expect(versionIds).toHaveLength(1);
    expect(fileEntries.map((e) => e.name).sort()).toEqual([...expected, versionContentEntry(versionIds[0]!)].sort());
    for (const part of parts) {
      part.forEach((e, i) => {
        if (!e.name.startsWith('My Cozy/Files/')) return;
        const doc = JSON.parse(part[i - 1]!.data.toString()) as { _id: string; size?: string; md5sum?: string; updated_at?: string };
        expect(part[i - 1]!.name).toMatch(/^My Cozy\/Data\/io\.cozy\.files(\.versions)?\//);
        expect(md5(e.data)).toBe(doc.md5sum);
        expect(e.mtime.getTime()).toBeGreaterThan(Date.now() - 3_600_000);
      });
    }
    const byName = new Map(fileEntries.map((e) => [e.name, e.data]));
    expect(byName.get(fileContentEntry('/Documents/a.txt'))).toEqual(contents['a.txt v2']);
    expect(byName.get(versionContentEntry(versionIds[0]!))).toEqual(contents['a.txt']);
    expect(byName.get(fileContentEntry('/Documents/Sub dir/d.txt'))).toEqual(contents['d.txt']);
    // the file whose blob is gone: neither its document nor a content
    expect(all.some((e) => e.name === docEntry('io.cozy.files', ids['gone.txt']!))).toBe(false);
    // each file's document is in exactly one part
    const fileDocs = all.filter((e) => e.name.startsWith('My Cozy/Data/io.cozy.files/') && (JSON.parse(e.data.toString()) as { type: string }).type === 'file');
    expect(fileDocs).toHaveLength(4);
  });

  it('refusals: unknown cursor 400, forged / other instance\'s / expired MAC 401, bad base64 400', async () => {
    expect((await download(mac, 'io.cozy.files/not-a-cursor')).status).toBe(400);
    const forged = `${mac.slice(0, -2)}${mac.endsWith('A') ? 'B' : 'A'}A`;
    expect((await h.req('GET', `/move/exports/${forged}`)).status).toBe(401);
    const other = encodeExportMac((await h.hearth.registry.secrets(h.other)).session, exp._id);
    expect((await h.req('GET', `/move/exports/${other}`)).status).toBe(401);
    // the other instance's own MAC does not open this instance's export on the other domain either
    expect((await h.req('GET', `/move/exports/${other}`, { host: h.otherDomain })).status).toBe(404);
    const old = encodeExportMac((await h.hearth.registry.secrets(h.instance)).session, exp._id, Date.now() - 8 * 24 * 3_600_000);
    expect((await h.req('GET', `/move/exports/${old}`)).status).toBe(401);
    expect((await h.req('GET', '/move/exports/not*base64')).status).toBe(400);
    expect((await download(forged)).status).toBe(401);
  });

  it('the admin API downloads every part in one zip', async () => {
    const res = await h.hearth.adminApp.inject({ url: `/instances/${encodeURIComponent(h.domain)}/exports/${exp._id}/data`, headers: { authorization: `Basic ${Buffer.from('admin:admin-secret').toString('base64')}` } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    const entries = await readZip(res.rawPayload);
    expect(entries.map((e) => e.name).sort()).toEqual(parts.flat().map((e) => e.name).sort());
  });
});

describe('refusals of POST /move/exports', () => {
  it('401 without a token, 403 without a POST right on the whole io.cozy.exports, 409 while an export runs, 404 over the rate limit', async () => {
    expect((await request('')).status).toBe(401);
    expect((await request(await h.cliToken('io.cozy.files'))).status).toBe(403);
    expect((await request(await h.cliToken('io.cozy.exports:GET'))).status).toBe(403);
    // an export still running (as the store says): a second is refused
    const now = new Date();
    await h.hearth.exports['deps'].store.begin(h.instance.id, {
      _id: 'running-one', domain: h.domain, parts_cursors: [], state: 'exporting', created_at: now.toISOString(), expires_at: new Date(now.getTime() + 3_600_000).toISOString(),
    }, null, now.getTime());
    const res = await request();
    expect(res.status).toBe(409);
    expect(res.body.errors[0].detail).toContain('already being created');
    // 5 a day, as cozy-stack; over the limit the route answers 404 (the two above counted)
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await request()).status);
    expect(statuses).toEqual([409, 409, 409, 404, 404]);
  });
});

describe('an export with apps.cspDisabled', () => {
  it('sends its zip without a CSP (by default, frame-ancestors names the settings app: above)', async () => {
    const t = await startTestHearth({ apps: { ...DEFAULTS.apps, cspDisabled: true } }, { exports: { sweepMs: 0 } });
    try {
      expect((await t.req('POST', '/move/exports', { token: await t.cliToken('io.cozy.exports'), body: { data: { type: 'io.cozy.exports', attributes: {} } } })).status).toBe(201);
      const doc = await exportEnded(t);
      const res = await getBinary(t.port, t.domain, `/move/exports/data/${encodeExportMac((await t.hearth.registry.secrets(t.instance)).session, doc._id)}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/zip');
      expect(res.headers['content-security-policy']).toBeUndefined();
      expect((await readZip(res.body))[0]!.name).toBe(INSTANCE_ENTRY);
    } finally {
      await t.close();
    }
  });
});
