/**
 * The order in which vitest's two workers take the test files (vitest.config.ts): the files of a project together (a
 * worker keeps its imported modules only while the next file is of its project), the projects by their longest file,
 * and in each project the longest files first, so that the run ends on short files and no worker waits idle for the
 * other's last long one. The times are those of an earlier run (test/file-times.json, `node scripts/test-times.mjs`
 * after `npm test`), since a clean clone has no vitest cache; a file missing from it goes first in its project.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

export const TIMES_FILE = 'test/file-times.json';

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const path = join(root, TIMES_FILE);
    const times = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>) : {};
    const time = (f: TestSpecification) => times[`${f.project.name}:${relative(root, f.moduleId)}`] ?? Infinity;
    const longest = new Map<string, number>();
    for (const f of files) longest.set(f.project.name, Math.max(longest.get(f.project.name) ?? 0, time(f)));
    return [...files].sort((a, b) => {
      const [pa, pb] = [a.project.name, b.project.name];
      if (pa !== pb) return longest.get(pb)! - longest.get(pa)! || (pa < pb ? -1 : 1);
      return time(b) - time(a) || (a.moduleId < b.moduleId ? -1 : 1);
    });
  }
}
