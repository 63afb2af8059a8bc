/** `hearth apps publish` into a local folder registry, and that folder read as a registry. */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTarball } from '../../../test/helpers/app-tarball.js';
import { captureStdio } from '../../../test/helpers/stdio.js';
import { HearthError } from '../../common/errors.js';
import { main } from '../../main.js';
import { LocalRegistry } from './local.js';
import { publish } from './publish.js';

const limits = { maxEntries: 5000, maxUnpackedBytes: 200_000_000 };
let tmp = '';
let dir = '';
let registry: LocalRegistry;
/** The package of notes 1.0.0, as first published. */
let notesFile = '';

async function pkg(name: string, manifest: Record<string, unknown>, extra: { name: string; body: string }[] = [], file = 'manifest.webapp'): Promise<string> {
  const path = join(tmp, name);
  await makeTarball(path, [{ name: `build/${file}`, body: JSON.stringify(manifest) }, { name: 'build/index.html', body: `<html>${name}</html>` }, ...extra.map((e) => ({ ...e, name: `build/${e.name}` }))]);
  return path;
}
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
async function refusal(p: Promise<unknown>): Promise<HearthError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(HearthError);
  return e as HearthError;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'hearth-publish-'));
  dir = join(tmp, 'registry');
  registry = new LocalRegistry(pathToFileURL(dir).href);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('publish into a folder registry', () => {
  it('adds a version with its tarball, its version object and the assets the manifest names', async () => {
    const file = await pkg('notes-1.0.0.tar.gz', { slug: 'notes', name: 'Notes', editor: 'hearth', category: 'cozy', version: '1.0.0', icon: 'icon.svg', screenshots: ['shots/1.png'] }, [
      { name: 'icon.svg', body: '<svg/>' }, { name: 'shots/1.png', body: 'PNG1' }, { name: 'secret.txt', body: 'not an asset' },
    ]);
    notesFile = file;
    const { version, created } = await publish(file, { dir, limits, now: () => new Date('2026-01-01T00:00:00Z') });
    expect(created).toBe(true);
    expect(version).toMatchObject({ slug: 'notes', type: 'webapp', version: '1.0.0', created_at: '2026-01-01T00:00:00.000Z', sha256: sha(file), size: String(readFileSync(file).length), tar_prefix: 'build' });
    expect(version.manifest).toMatchObject({ slug: 'notes', name: 'Notes', version: '1.0.0' });
    expect(version.url).toBe(pathToFileURL(join(dir, 'notes', '1.0.0.tar.gz')).href);
    expect(readdirSync(join(dir, 'notes')).sort()).toEqual(['1.0.0.assets', '1.0.0.json', '1.0.0.tar.gz']);
    expect(readdirSync(join(dir, 'notes', '1.0.0.assets'), { recursive: true }).map(String).sort()).toEqual(['icon.svg', 'shots', 'shots/1.png']);

    const chunks: Buffer[] = [];
    for await (const c of await registry.openTarball(version)) chunks.push(c as Buffer);
    expect(createHash('sha256').update(Buffer.concat(chunks)).digest('hex')).toBe(version.sha256);
    const icon = await registry.asset('notes', null, 'icon');
    expect(icon?.contentType).toBe('image/svg+xml');
    icon?.body.destroy();
    expect(await registry.asset('notes', '1.0.0', 'screenshots/shots/1.png')).not.toBeNull();
    expect(await registry.asset('notes', '1.0.0', 'screenshots/secret.txt')).toBeNull();
    expect(await registry.asset('notes', '1.0.0', 'screenshots/../1.0.0.json')).toBeNull();
  });

  it('orders the channels and answers the application object', async () => {
    await publish(await pkg('notes-1.1.0-beta.1.tar.gz', { slug: 'notes', version: '1.1.0-beta.1' }), { dir, limits, now: () => new Date('2026-02-01T00:00:00Z') });
    const dev = await publish(await pkg('notes-1.1.0-dev.tar.gz', { slug: 'notes', version: '1.1.0' }), { dir, limits, channel: 'dev', now: () => new Date('2026-03-01T00:00:00Z') });
    expect(dev.version.version).toMatch(/^1\.1\.0-dev\.[0-9a-f]{16}$/);
    expect((await registry.latest('notes', 'stable'))?.version).toBe('1.0.0');
    expect((await registry.latest('notes', 'beta'))?.version).toBe('1.1.0-beta.1');
    expect((await registry.latest('notes', 'dev'))?.version).toBe(dev.version.version);
    const app = await registry.application('notes');
    expect(app).toMatchObject({ slug: 'notes', type: 'webapp', editor: 'hearth', category: 'cozy', versions: { stable: ['1.0.0'], beta: ['1.1.0-beta.1'], dev: [dev.version.version] } });
    expect(app?.latest_version?.version).toBe('1.0.0');
    expect(await registry.application('nothing')).toBeNull();
    expect(await registry.version('notes', '9.9.9')).toBeNull();
  });

  it('accepts the same bytes again and refuses other bytes for a published version (409)', async () => {
    const same = await publish(notesFile, { dir, limits });
    expect(same.created).toBe(false);
    expect(same.version.created_at).toBe('2026-01-01T00:00:00.000Z');
    const changed = await pkg('notes-1.0.0-b.tar.gz', { slug: 'notes', version: '1.0.0', description: 'other bytes' });
    const e = await refusal(publish(changed, { dir, limits }));
    expect(e.status).toBe(409);
    expect(e.reason).toMatch(/already published with other bytes/);
  });

  it('refuses a bad manifest, a version of no channel, a channel the version is not of, a slug of another kind', async () => {
    expect((await refusal(publish(await pkg('bad1.tar.gz', { slug: 'Bad Slug', version: '1.0.0' }), { dir, limits }))).status).toBe(400);
    expect((await refusal(publish(await pkg('bad2.tar.gz', { slug: 'x' }), { dir, limits }))).reason).toMatch(/no "version"/);
    expect((await refusal(publish(await pkg('bad3.tar.gz', { slug: 'x', version: 'v1' }), { dir, limits }))).reason).toMatch(/is not X\.Y\.Z/);
    expect((await refusal(publish(await pkg('bad4.tar.gz', { slug: 'x', version: '1.0.0-beta.1' }), { dir, limits, channel: 'stable' }))).reason).toMatch(/cannot be published on the stable channel/);
    const k = await pkg('notes-k.tar.gz', { slug: 'notes', version: '3.0.0', type: 'konnector' }, [], 'manifest.konnector');
    expect((await refusal(publish(k, { dir, limits }))).status).toBe(409);
    expect(readdirSync(dir).sort()).toEqual(['notes']);
    expect(readdirSync(join(dir, 'notes')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });
});

const io = captureStdio();
/** Runs the CLI and returns its exit code and what it printed. */
async function captureOutput(run: () => Promise<number>): Promise<{ result: number; stdout: string; stderr: string }> {
  io.stdout = io.stderr = '';
  const result = await run();
  return { result, stdout: io.stdout, stderr: io.stderr };
}

describe('hearth apps publish', () => {
  it('publishes with --json, and prints its help', async () => {
    const file = await pkg('todo.tar.gz', { slug: 'todo', version: '2.0.0' });
    const run = await captureOutput(() => main(['apps', 'publish', file, '--registry', dir, '--json']));
    expect(run.result).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ slug: 'todo', version: '2.0.0', created: true, sha256: sha(file) });
    const text = await captureOutput(() => main(['apps', 'publish', file, '--registry', dir]));
    expect(text.stdout).toMatch(/^already published \(same bytes\): todo 2\.0\.0 \(webapp\)/);
    const help = await captureOutput(() => main(['apps', 'publish', '--help']));
    expect(help.result).toBe(0);
    expect(help.stdout).toMatch(/--registry <dir>/);
    expect(help.stdout).toMatch(/--channel <channel>/);
  });

  it('fails with the reason on a bad package and a bad channel', async () => {
    const bad = await captureOutput(() => main(['apps', 'publish', join(tmp, 'bad2.tar.gz'), '--registry', dir]));
    expect(bad.result).toBe(1);
    expect(bad.stderr).toMatch(/no "version"/);
    const usage = await captureOutput(() => main(['apps', 'publish', join(tmp, 'todo.tar.gz'), '--registry', dir, '--channel', 'nightly']));
    expect(usage.result).toBe(2);
    expect(usage.stderr).toMatch(/expected stable, beta or dev/);
  });
});
