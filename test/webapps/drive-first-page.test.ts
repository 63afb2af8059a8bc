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

// the modules as the bundles have them (webapps/ is type-checked for the browser, on its own tsconfig), for Node
beforeAll(async () => {
  const load = async <T>(file: string): Promise<T> => {
    const out = join(tmp, `${file}.cjs`);
    await build({ entryPoints: [join(SRC, file)], bundle: true, outfile: out, format: 'cjs', platform: 'node', logLevel: 'error' });
    return createRequire(import.meta.url)(out) as T;
  };
  ({ firstPagePath } = await load<{ firstPagePath: typeof firstPagePath }>('first-page.early.ts'));
  ({ showNow, BATCH } = await load<{ showNow: typeof showNow; BATCH: number }>('batches.ts'));
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
