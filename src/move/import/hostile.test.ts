/**
 * Hostile archives, imported through `hearth instances import <domain> FILE --json` (the admin API, no export server):
 * names that try to leave their folder (`..`, absolute), an invalid doctype or id, a document that is not JSON, a file
 * document without its content, a content without its document, a content whose MD5 differs, a zip bomb (declared over
 * the bound, and one lying about its size), 100,000 entries, a truncated zip: each refused or left out with its reason
 * in the report, nothing written outside the instance, and the instance left unblocked with its API answering.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../main.js';
import { startTestHearth, rawRequest, type TestHearth } from '../../../test/helpers/hearth.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { doc, file, md5b64, writeZip, type Entry } from '../../../test/helpers/move-archive.js';
import type { Instance } from '../../instances/types.js';
import type { ImportReport } from './report.js';

const io = captureStdio();
let t: TestHearth;
let inst: Instance;
let env: Record<string, string>;
let work: string;

beforeAll(async () => {
  t = await startTestHearth();
  inst = await t.hearth.registry.create({ domain: `hostile.localhost:${t.port}` });
  env = { HEARTH_ADMIN_URL: await t.hearth.adminApp.listen({ host: '127.0.0.1', port: 0 }), HEARTH_ADMIN_PASSPHRASE: 'admin-secret' };
  work = mkdtempSync(join(tmpdir(), 'hearth-hostile-'));
}, 120_000);
afterAll(async () => {
  await t?.close();
  rmSync(work, { recursive: true, force: true });
});

/** Imports the zip at `path` with the CLI (--json): the exit code and the final report. */
async function importZip(path: string): Promise<{ code: number; report: ImportReport; lines: Array<{ type: string }> }> {
  io.stdout = '';
  io.stderr = '';
  const code = await main(['instances', 'import', inst.domain, path, '--json'], env);
  const lines = io.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; data?: ImportReport });
  const last = lines.at(-1) as { data?: ImportReport } | undefined;
  return { code, report: last?.data as ImportReport, lines };
}

/** Whether the instance is unblocked and its API answers. */
async function usable(): Promise<void> {
  expect(await t.hearth.moveStates.get(inst.id)).toBeNull();
  const res = await rawRequest(t.port, 'GET', '/files/io.cozy.files.root-dir', { host: inst.domain, token: await t.cliToken('io.cozy.files', inst) });
  expect(res.status).toBe(200);
}

/** A zip whose entry names are patched after yazl wrote them (yazl refuses to write `..` and absolute names itself). */
async function patchedZip(path: string, entries: Entry[], patches: Array<[string, string]>): Promise<void> {
  await writeZip(path, entries);
  let bytes = readFileSync(path);
  for (const [from, to] of patches) {
    expect(from.length).toBe(to.length);
    bytes = Buffer.from(bytes.toString('latin1').split(from).join(to), 'latin1');
  }
  writeFileSync(path, bytes);
}

const reasons = (r: ImportReport) => Object.fromEntries(r.skipped.map((s) => [s.entry, s.reason]));

describe('hostile archives', () => {
  it('leaves out, each with its reason, names that leave their folder, invalid doctypes and ids, non-JSON documents, files without content or document, MD5 mismatches', async () => {
    const path = join(work, 'names.zip');
    const escape = `escape-${process.pid}`;
    await patchedZip(path, [
      doc('io.cozy.notes', { _id: 'good', ok: true }),
      { name: `My Cozy/Data/io.cozy.notes/DD/DD/DD/DD/DD/DD/DD/DD/DD/DD/${escape}.json`, data: '{"x":1}' },
      { name: `Qtmp/${escape}-abs.json`, data: '{"x":1}' },
      { name: `My Cozy/Files/DD/DD/DD/DD/DD/DD/DD/DD/DD/DD/tmp/${escape}-file`, data: 'evil' },
      { name: 'My Cozy/Data/IO.Cozy.BAD!/x.json', data: '{"x":1}' },
      { name: 'My Cozy/Data/io.cozy.notes/_bad.json', data: '{"x":1}' },
      { name: 'My Cozy/Data/io.cozy.notes/notjson.json', data: '[1, 2' },
      { name: 'My Cozy/Data/io.cozy.notes/array.json', data: '[1, 2]' },
      // a file document followed by another document, not by its content
      ...file('nocontent', '', 'io.cozy.files.root-dir', 'nocontent.txt', 'lost').slice(0, 1),
      doc('io.cozy.notes', { _id: 'after', ok: true }),
      // a content without its document
      { name: 'My Cozy/Files/orphan.txt', data: 'orphan' },
      // a content whose MD5 is not its document's
      ...file('badmd5', '', 'io.cozy.files.root-dir', 'badmd5.txt', 'real content', { md5sum: md5b64('other content') }),
      ...file('fine', '', 'io.cozy.files.root-dir', 'fine.txt', 'fine content'),
      // a file in a directory the archive does not hold (an export's file moved after its part 0 was downloaded)
      ...file('lost', '/elsewhere', 'no-such-dir', 'lost.txt', 'lost content'),
    ], [['DD/DD/DD/DD/DD/DD/DD/DD/DD/DD', '../../../../../../../../../..'], [`Qtmp/${escape}`, `/tmp/${escape}`]]);
    const { code, report } = await importZip(path);
    expect(code).toBe(0);
    const why = reasons(report);
    expect(why[`My Cozy/Data/io.cozy.notes/../../../../../../../../../../${escape}.json`]).toMatch(/segment/);
    expect(why[`/tmp/${escape}-abs.json`]).toMatch(/outside My Cozy/);
    expect(why[`My Cozy/Files/../../../../../../../../../../tmp/${escape}-file`]).toMatch(/outside My Cozy|leaves its folder/);
    expect(why['My Cozy/Data/IO.Cozy.BAD!/x.json']).toMatch(/not a valid doctype/);
    expect(why['My Cozy/Data/io.cozy.notes/_bad.json']).toMatch(/not a valid document id/);
    expect(why['My Cozy/Data/io.cozy.notes/notjson.json']).toMatch(/not a JSON object/);
    expect(why['My Cozy/Data/io.cozy.notes/array.json']).toMatch(/not a JSON object/);
    expect(why['My Cozy/Data/io.cozy.files/nocontent.json']).toMatch(/not followed by its content/);
    expect(why['My Cozy/Files/orphan.txt']).toMatch(/without its document/);
    expect(why['My Cozy/Files/badmd5.txt']).toMatch(/MD5|md5|content was not written/);
    expect(why['My Cozy/Data/io.cozy.files/lost.json']).toMatch(/directory is not in the archive/);
    expect(why['My Cozy/Files/elsewhere/lost.txt']).toMatch(/without its document/);
    expect(report.skipped_count).toBe(12);
    // nothing outside the instance; what was sound is there
    for (const p of [`/tmp/${escape}.json`, `/tmp/${escape}-abs.json`, `/tmp/${escape}-file`, join(t.dataDir, `${escape}.json`)]) expect(existsSync(p)).toBe(false);
    const store = t.hearth.storeOf(inst);
    expect(await store.get('io.cozy.notes', 'good')).toMatchObject({ ok: true });
    expect(await store.get('io.cozy.notes', 'after')).toMatchObject({ ok: true });
    await expect(t.hearth.vfs.fs.stat(inst, 'badmd5')).rejects.toThrow();
    await expect(t.hearth.vfs.fs.stat(inst, 'nocontent')).rejects.toThrow();
    await expect(t.hearth.vfs.fs.stat(inst, 'lost')).rejects.toThrow();
    expect(report.files).toBe(1);
    await usable();
  }, 120_000);

  it('stops reading a zip bomb: an entry declared over the bound, and one that inflates past what it declares', async () => {
    const limits = t.hearth.imports.limits;
    const before = limits.maxEntryBytes;
    limits.maxEntryBytes = 1024 * 1024;
    try {
      const zeros = Buffer.alloc(8 * 1024 * 1024);
      const path = join(work, 'bomb.zip');
      const liar = Buffer.alloc(2 * 1024 * 1024);
      const LIE = 300 * 1024;
      await writeZip(path, [
        ...file('bomb', '', 'io.cozy.files.root-dir', 'bomb.bin', zeros),
        ...file('liar', '', 'io.cozy.files.root-dir', 'liarXbin', liar, { size: '1000', md5sum: md5b64(liar.subarray(0, 1000)) }),
        // over the size read whole: streamed, inflated and counted by the importer itself
        ...file('bigliar', '', 'io.cozy.files.root-dir', 'liarYbin', liar, { size: String(LIE), md5sum: md5b64(liar.subarray(0, LIE)) }),
        doc('io.cozy.notes', { _id: 'still', ok: true }),
      ]);
      // the liars' declared sizes become 1000 and LIE in both headers (the reader then finds more bytes than declared)
      let bytes = readFileSync(path);
      for (const [liarName, declared] of [['liarXbin', 1000], ['liarYbin', LIE]] as const) {
        const name = Buffer.from(`My Cozy/Files/${liarName}`);
        for (let at = bytes.indexOf(name); at >= 0; at = bytes.indexOf(name, at + 1)) {
          const local = bytes.readUInt32LE(at - 30) === 0x04034b50;
          const central = bytes.readUInt32LE(at - 46) === 0x02014b50;
          if (local) bytes.writeUInt32LE(declared, at - 30 + 22);
          if (central) bytes.writeUInt32LE(declared, at - 46 + 24);
        }
      }
      writeFileSync(path, bytes);
      bytes = Buffer.alloc(0);
      const { code, report } = await importZip(path);
      expect(code).toBe(0);
      const why = reasons(report);
      expect(why['My Cozy/Files/bomb.bin']).toMatch(/over the 1048576 bytes allowed/);
      expect(why['My Cozy/Files/liarXbin']).toMatch(/content was not written/);
      expect(why['My Cozy/Files/liarYbin']).toMatch(/content was not written: the entry inflates to more than the 307200 bytes/);
      expect(report.files).toBe(0);
      expect(await t.hearth.storeOf(inst).get('io.cozy.notes', 'still')).toMatchObject({ ok: true });
      await usable();
    } finally {
      limits.maxEntryBytes = before;
    }
  }, 120_000);

  it('refuses an archive over the entries bound before reading it, with a bounded report of what it leaves out', async () => {
    const path = join(work, 'many.zip');
    function* many(): Generator<Entry> {
      for (let i = 0; i < 2000; i++) yield { name: `My Cozy/Data/io.cozy.sessions/s${i}.json`, data: '{}' };
      yield { name: 'My Cozy/Data/io.cozy.notes/last.json', data: '{"last":true}' };
    }
    await writeZip(path, many());
    const { code, report } = await importZip(path);
    expect(code).toBe(0);
    expect(report.skipped_count).toBe(2000);
    expect(report.skipped.length).toBe(200);
    expect(report.docs).toBe(1);
    await usable();
    const limits = t.hearth.imports.limits;
    const before = limits.maxEntries;
    limits.maxEntries = 1000;
    try {
      const refused = await importZip(path);
      expect(refused.report.skipped[0]).toEqual({ entry: 'part 0', reason: expect.stringMatching(/2001 entries, more than the 1000 allowed/) });
      expect(refused.report.docs).toBe(0);
      await usable();
    } finally {
      limits.maxEntries = before;
    }
  }, 300_000);

  it('reports a truncated zip and a file that is not a zip, and leaves the instance usable', async () => {
    const path = join(work, 'whole.zip');
    await writeZip(path, [doc('io.cozy.notes', { _id: 'x', ok: true }), ...file('f', '', 'io.cozy.files.root-dir', 'f.txt', Buffer.alloc(100_000, 'a'))]);
    const whole = readFileSync(path);
    const cut = join(work, 'cut.zip');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const a = await importZip(cut);
    expect(a.code).toBe(0);
    expect(a.report.skipped[0]?.entry).toBe('part 0');
    expect(a.report.skipped[0]?.reason).toMatch(/could not be read/);
    await usable();
    const notZip = join(work, 'not.zip');
    writeFileSync(notZip, 'hello, not a zip');
    expect((await importZip(notZip)).report.skipped[0]?.reason).toMatch(/could not be read/);
    await usable();
    // refusals before anything: no such file, a relative path through the API, an import under way
    io.stderr = '';
    expect(await main(['instances', 'import', inst.domain, join(work, 'missing.zip')], env)).toBe(1);
    expect(io.stderr).toMatch(/there is no file at/);
    await t.hearth.moveStates.transition(inst.id, null, { status: 'importing', peer: null, since: new Date().toISOString(), detail: {} });
    io.stderr = '';
    expect(await main(['instances', 'import', inst.domain, path], env)).toBe(1);
    expect(io.stderr).toMatch(/already under way/);
    await t.hearth.moveStates.transition(inst.id, 'importing', null);
  }, 120_000);
});
