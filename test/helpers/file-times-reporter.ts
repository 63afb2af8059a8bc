/**
 * A vitest reporter that writes, for every test file of the run, the time it held its worker: the import of the file
 * (collect), the setup files, and its tests and hooks (beforeAll: the servers, browsers and Hearths it starts). The
 * JSON reporter's per-file times are the tests' alone. Written to vitest-file-times.json; `node scripts/test-times.mjs`
 * keeps them in test/file-times.json, which the sequencer (test/helpers/sequencer.ts) orders the files by.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

export interface FileTime { project: string; file: string; ms: number; collectMs: number; state: string }

export default class FileTimesReporter implements Reporter {
  private root = process.cwd();

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const files: FileTime[] = modules.map((m) => {
      const d = m.diagnostic();
      return {
        project: m.project.name, file: relative(this.root, m.moduleId), state: m.state(),
        ms: Math.round(d.prepareDuration + d.collectDuration + d.setupDuration + d.duration), collectMs: Math.round(d.collectDuration),
      };
    });
    files.sort((a, b) => b.ms - a.ms);
    writeFileSync('vitest-file-times.json', JSON.stringify({ files }, null, 1) + '\n');
  }
}
