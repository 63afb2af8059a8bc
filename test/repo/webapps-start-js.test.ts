/**
 * What a built-in app's page evaluates before its first render: the module script of its HTML and the chunks it
 * imports statically (the `modulepreload` links). Code a page needs only later (an upload's hashing, cozy-client and
 * cozy-realtime) is in chunks of its own, loaded by import() on first use, so that a phone does not run it before it
 * shows the page.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { buildApp } from '../../scripts/build-webapps.mjs';

/** spark-md5 checks itself when its module loads, on this string's hash. */
const SPARK_MD5 = '5d41402abc4b2a76b9719d911017c592';
/** Error messages of cozy-client's core (its store's getById) and of cozy-realtime's CozyRealtime. */
const COZY_CLIENT = 'getById called with undefined id';
const COZY_REALTIME = 'Unexpected replacement of an existing socket';

let out: string;
let drive: { dir: string };
let home: { dir: string };
let settings: { dir: string };
beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'hearth-webapps-start-'));
  drive = await buildApp('drive', out);
  home = await buildApp('home', out);
  settings = await buildApp('settings', out);
}, 180_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The text of the scripts `html` starts with: its module script and the chunks it preloads. */
function startScripts(dir: string, html: string): string {
  const page = readFileSync(join(dir, html), 'utf8');
  const names = [...page.matchAll(/<script type="module" src="([^"]+)"|<link rel="modulepreload" href="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
  expect(names.length).toBeGreaterThan(0);
  return names.map((n) => readFileSync(join(dir, n), 'utf8')).join('\n');
}

const allScripts = (dir: string): string => readdirSync(dir).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(dir, f), 'utf8')).join('\n');

describe("what Drive's page evaluates before its first render", () => {
  it('leaves out spark-md5 (the uploads\' hashing), which is in a chunk of its own', () => {
    expect(startScripts(drive.dir, 'index.html')).not.toContain(SPARK_MD5);
    expect(allScripts(drive.dir)).toContain(SPARK_MD5);
  });
});

describe('what Home, Drive and Settings evaluate before their first render', () => {
  it('leaves out cozy-client and cozy-realtime, which are in chunks of their own', () => {
    for (const app of [home, drive, settings]) {
      const start = startScripts(app.dir, 'index.html');
      expect(start).not.toContain(COZY_CLIENT);
      expect(start).not.toContain(COZY_REALTIME);
      const all = allScripts(app.dir);
      expect(all).toContain(COZY_CLIENT);
      expect(all).toContain(COZY_REALTIME);
    }
  });
});
