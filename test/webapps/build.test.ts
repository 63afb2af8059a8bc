/**
 * The build of the built-in apps (scripts/build-webapps.mjs, `npm run build`): deterministic (two builds of the same
 * sources give the same sha256 per app), every package passes the installer's checks of hostile tarballs, every
 * permission of every manifest says why in a `description`, and `bin/hearth.js` looks for the built-in registry in the
 * package's dist/registry.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTarball, unpackTarball } from '../../src/apps/code/tarball.js';
import { DEFAULTS } from '../../src/config/schema.js';
import { BUILTIN_SLUGS, type BuiltWebapp } from '../helpers/webapps.js';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { buildWebapps } from '../../scripts/build-webapps.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIMITS = { maxEntries: DEFAULTS.apps.maxEntries, maxUnpackedBytes: DEFAULTS.apps.maxUnpackedBytes };
const tmp = mkdtempSync(join(tmpdir(), 'hearth-webapps-build-'));
let first: BuiltWebapp[];
let second: BuiltWebapp[];

beforeAll(async () => {
  first = ((await buildWebapps({ outDir: join(tmp, 'a') })) as { apps: BuiltWebapp[] }).apps;
  second = ((await buildWebapps({ outDir: join(tmp, 'b') })) as { apps: BuiltWebapp[] }).apps;
}, 180_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the built-in apps\' build', () => {
  it('is deterministic: the same sources give the same bytes', () => {
    expect(first.map((a) => a.slug)).toEqual(BUILTIN_SLUGS);
    expect(second.map((a) => [a.slug, a.sha256])).toEqual(first.map((a) => [a.slug, a.sha256]));
  });

  it('gives packages that pass the installer\'s checks, whose every permission has a description', async () => {
    for (const app of first) {
      const info = await readTarball(app.tarball, { limits: LIMITS, kind: 'webapp', expectedSlug: app.slug });
      expect(info.manifest.slug).toBe(app.slug);
      const files: string[] = [];
      await unpackTarball(app.tarball, info, LIMITS, async (path, body) => {
        files.push(path);
        body.resume();
        await new Promise((done) => body.on('end', done));
      });
      expect(files).toEqual(expect.arrayContaining(['manifest.webapp', 'index.html', 'icon.svg']));
      const permissions = Object.entries((info.manifest.permissions ?? {}) as Record<string, { description?: unknown }>);
      for (const [name, rule] of permissions) {
        expect(typeof rule.description === 'string' && rule.description.trim().length > 0, `${app.slug}'s permission "${name}" has no description`).toBe(true);
      }
    }
  });

  it('bin/hearth.js takes the package\'s dist/registry as the built-in registry', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin', 'hearth.js'), 'config', 'show', '--json'], { cwd: tmp, env: { PATH: process.env.PATH ?? '' } });
    expect((JSON.parse(stdout) as { apps: { builtinRegistry: string } }).apps.builtinRegistry).toBe(join(ROOT, 'dist', 'registry'));
  });
});
