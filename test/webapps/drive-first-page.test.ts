/**
 * Drive's first request and its batches (webapps/drive/src): the path the page's early script asks for, from the
 * URL's fragment (first-page.early.ts, the same as the app's first request: test/browser/webapp-drive.test.ts checks
 * the app asks for it once), and how the pages after the first are shown while they arrive (batches.ts).
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'webapps', 'drive', 'src');
const tmp = mkdtempSync(join(tmpdir(), 'hearth-drive-first-'));
let firstPagePath: (hash: string) => string | null;
let showNow: (gathered: number, shown: number, left?: number) => boolean;
let BATCH: number;
let early: { prepareSortEarly(): void; takeEarlyStored(key: string): { value: string | null } | undefined; earlyCollator(): Intl.Collator | undefined; PREPARED_KEY: string };
let sort: { compareFiles(s: { key: 'name'; dir: 'asc' }): (a: object, b: object) => number; prepareSort(): void };

// the modules as the bundles have them (webapps/ is type-checked for the browser, on its own tsconfig), for Node
beforeAll(async () => {
  const load = async <T>(file: string): Promise<T> => {
    const out = join(tmp, `${file}.cjs`);
    await build({ entryPoints: [join(SRC, file)], bundle: true, outfile: out, format: 'cjs', platform: 'node', logLevel: 'error' });
    return createRequire(import.meta.url)(out) as T;
  };
  ({ firstPagePath } = await load<{ firstPagePath: typeof firstPagePath }>('first-page.early.ts'));
  ({ showNow, BATCH } = await load<{ showNow: typeof showNow; BATCH: number }>('batches.ts'));
  early = await load<typeof early>('sort-early.ts');
  sort = await load<typeof sort>('sort.ts');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the early script's request", () => {
  it('is the first page of the folder or the trash the fragment shows, and none for the other pages', () => {
    expect(firstPagePath('')).toBe('/files/io.cozy.files.root-dir?page[limit]=50');
    expect(firstPagePath('#/folder/abc')).toBe('/files/abc?page[limit]=50');
    expect(firstPagePath('#/folder/a%2Fb%20c/file/x')).toBe('/files/a%2Fb%20c?page[limit]=50');
    expect(firstPagePath('#/trash')).toBe('/files/trash?page[limit]=50');
    expect(firstPagePath('#/nowhere')).toBe('/files/io.cozy.files.root-dir?page[limit]=50');
    for (const hash of ['#/recent', '#/photos', '#/links', '#/file/x/versions', '#/file/x/share']) expect(firstPagePath(hash)).toBeNull();
  });
});

describe("the early script's preparations for the listing's order", () => {
  it('reads the remembered sort and view once, and makes the collator the listing then uses (none made by the bundle)', () => {
    const g = globalThis as Record<string, unknown>;
    const saved = { localStorage: g.localStorage, Collator: Intl.Collator, prepared: g[early.PREPARED_KEY] };
    const reads: string[] = [];
    g.localStorage = { getItem: (k: string) => { reads.push(k); return k === 'drive.sort' ? '{"key":"name","dir":"desc"}' : null; } };
    let made = 0;
    const Real = Intl.Collator;
    Intl.Collator = function Collator(...args: ConstructorParameters<typeof Intl.Collator>) { made++; return new Real(...args); } as unknown as typeof Intl.Collator;
    try {
      early.prepareSortEarly();
      expect(reads).toEqual(['drive.sort', 'drive.view']);
      expect(made).toBe(1);
      expect(early.takeEarlyStored('drive.sort')).toEqual({ value: '{"key":"name","dir":"desc"}' });
      expect(early.takeEarlyStored('drive.view')).toEqual({ value: null });
      // once: the page may have changed it since
      expect(early.takeEarlyStored('drive.sort')).toBeUndefined();
      // the listing's order uses that collator (numeric, case aside) and makes none
      sort.prepareSort();
      const byName = sort.compareFiles({ key: 'name', dir: 'asc' });
      const files = ['b10', 'B2', 'a1'].map((name) => ({ _id: name, name, type: 'file' }));
      expect(files.sort(byName).map((f) => f.name)).toEqual(['a1', 'B2', 'b10']);
      expect(made).toBe(1);
    } finally {
      g.localStorage = saved.localStorage;
      Intl.Collator = saved.Collator;
      if (saved.prepared === undefined) delete g[early.PREPARED_KEY]; else g[early.PREPARED_KEY] = saved.prepared;
    }
  });
});

/** The numbers of files shown after each change while a folder of `count` files loads: a first page of 50, then pages of 100. */
function changes(count: number): number[] {
  const out: number[] = [];
  let shown = 0;
  let gathered = 0;
  let loaded = 0;
  for (let page = 0; loaded < count; page++) {
    const n = Math.min(page === 0 ? 50 : 100, count - loaded);
    loaded += n;
    gathered += n;
    if (page === 0 || loaded === count || showNow(gathered, shown, count - shown - gathered)) {
      shown += gathered;
      gathered = 0;
      out.push(shown);
    }
  }
  return out;
}

describe("a folder's pages after the first", () => {
  it('are shown in batches that grow with what is shown, the last one with the last page', () => {
    expect(BATCH).toBe(300);
    expect(changes(250)).toEqual([50, 250]);
    expect(changes(1_000)).toEqual([50, 350, 1_000]);
    // a batch at least as large as what is shown: about log2(n / BATCH) changes (every 300 files: 34)
    const big = changes(10_000);
    expect(big).toEqual([50, 350, 750, 1_550, 3_150, 6_350, 10_000]);
    expect(showNow(299, 0)).toBe(false);
    expect(showNow(300, 0)).toBe(true);
    expect(showNow(300, 0, 299)).toBe(false);
  });
});
