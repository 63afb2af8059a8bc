/**
 * cozy-realtime's lodash in the apps' bundles (scripts/webapps-shims/lodash-realtime.cjs, resolved by the build's
 * `realtimeLodash` plugin): the six functions behave as lodash's for what cozy-realtime gives them (its subscription
 * list's add, remove, pairs; its online check), and only cozy-realtime's imports are redirected.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import lodash from 'lodash';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: the build script is plain JavaScript (it runs before any compilation)
import { realtimeLodash } from '../../scripts/build-webapps.mjs';

const ROOT = join(import.meta.dirname, '..', '..');
type Shims = { isEqual(a: unknown, b: unknown): boolean; has(o: unknown, p: string): boolean; pick(o: unknown, k: string[]): object; pullAt(a: unknown[], ...i: number[]): unknown[]; remove(a: unknown[], p: (v: unknown, i: number) => boolean): unknown[]; uniqWith(a: unknown[], c: (x: unknown, y: unknown) => boolean): unknown[] };
const shims = createRequire(import.meta.url)(join(ROOT, 'scripts', 'webapps-shims', 'lodash-realtime.cjs')) as Shims;

describe('cozy-realtime\'s lodash functions, without lodash', () => {
  const handler = () => undefined;
  const subs = [
    { type: 'io.cozy.files', eventName: 'created', handler },
    { type: 'io.cozy.files', id: 'a', eventName: 'updated', handler },
    { type: 'io.cozy.files', eventName: 'created', handler },
    { type: 'io.cozy.files', eventName: 'created', handler: () => undefined },
    { type: 'io.cozy.files', id: undefined, eventName: 'created', handler },
    { type: 'io.cozy.notifications', eventName: 'created', handler, nested: { a: [1, 2, { b: 'c' }] } },
    { type: 'io.cozy.notifications', eventName: 'created', handler, nested: { a: [1, 2, { b: 'd' }] } },
  ];

  it('compare, pick and deduplicate as lodash does', () => {
    for (const a of subs) for (const b of subs) expect(shims.isEqual(a, b)).toBe(lodash.isEqual(a, b));
    for (const s of subs) expect(shims.pick(s, ['type', 'id'])).toEqual(lodash.pick(s, ['type', 'id']));
    const pairs = subs.map((s) => lodash.pick(s, ['type', 'id']));
    expect(shims.uniqWith(pairs, shims.isEqual)).toEqual(lodash.uniqWith(pairs, lodash.isEqual));
  });

  it('remove and pull from the list in place, returning what they took, as lodash does', () => {
    for (const at of [0, 2, 6, 9]) {
      const mine = [...subs]; const theirs = [...subs];
      expect(shims.pullAt(mine, at)).toEqual(lodash.pullAt(theirs, at));
      expect(mine).toEqual(theirs);
    }
    for (const target of subs) {
      const mine = [...subs]; const theirs = [...subs];
      const seen: number[] = [];
      expect(shims.remove(mine, (s, i) => { seen.push(i); return shims.isEqual(s, target); })).toEqual(lodash.remove(theirs, (s) => lodash.isEqual(s, target)));
      expect(mine).toEqual(theirs);
      expect(seen).toEqual(subs.map((_, i) => i));
    }
  });

  it('look for own properties along a path, as lodash\'s has', () => {
    class Navigator { get onLine() { return true; } }
    const cases: [unknown, string][] = [
      [{ navigator: new Navigator() }, 'navigator.onLine'],
      [{ navigator: { onLine: false } }, 'navigator.onLine'],
      [{ navigator: null }, 'navigator.onLine'],
      [{}, 'navigator.onLine'],
      [{ 'navigator.onLine': 1 }, 'navigator.onLine'],
      [null, 'navigator.onLine'],
    ];
    for (const [o, p] of cases) expect(shims.has(o, p)).toBe(lodash.has(o, p));
  });

  it('are what cozy-realtime gets in a bundle; any other importer keeps lodash', async () => {
    const bundle = async (contents: string) => Object.keys((await build({
      stdin: { contents, resolveDir: ROOT, loader: 'js' }, bundle: true, write: false, metafile: true, platform: 'browser',
      logLevel: 'error', plugins: [realtimeLodash], define: { global: 'window' },
    })).metafile.inputs);
    const realtime = await bundle('import C from "cozy-realtime/dist/CozyRealtime"; console.log(C);');
    expect(realtime).toContain('scripts/webapps-shims/lodash-realtime.cjs');
    expect(realtime.filter((f) => f.includes('node_modules/lodash/'))).toEqual([]);
    const other = await bundle('import pick from "lodash/pick"; console.log(pick);');
    expect(other).toContain('node_modules/lodash/pick.js');
    expect(other).not.toContain('scripts/webapps-shims/lodash-realtime.cjs');
  });
});
