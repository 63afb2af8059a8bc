/**
 * Parsed index templates, kept per app version: a page is parsed once, then each request only fills the holes. The code
 * of an installed version is immutable (its key holds the package's sha256), so a cached index is used without opening
 * the file again; an app without checksum (a dev folder) is opened on each request and re-parsed when its ETag changes.
 * Bounded: past MAX entries the oldest is dropped.
 */
import type { AppDoc, OpenedAppFile } from '../types.js';
import { parseTemplate, TemplateError, withWarnings, type Part } from './template.js';

const MAX = 1000;

async function text(opened: OpenedAppFile): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of opened.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `parts` null: the file is not a template this engine reads, serve `raw`. `theme`: it has a `{{.ThemeStyle}}` (params.ts). */
export interface IndexEntry { parts: Part[] | null; raw: string; theme: boolean }

export class IndexCache {
  private readonly entries = new Map<string, IndexEntry>();

  private remember(key: string, entry: IndexEntry): IndexEntry {
    if (this.entries.size >= MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
    return entry;
  }

  /** The index `file` of `app`, parsed; null when the file does not exist. */
  async get(app: Pick<AppDoc, 'slug' | 'version' | 'checksum'>, file: string, open: () => Promise<OpenedAppFile | null>): Promise<IndexEntry | null> {
    const versionKey = `${app.slug}\n${app.version}\n${app.checksum}\n${file}`;
    if (app.checksum) {
      const hit = this.entries.get(versionKey);
      if (hit) return hit;
    }
    const opened = await open();
    if (!opened) return null;
    const key = app.checksum ? versionKey : `${versionKey}\n${opened.etag}`;
    const hit = this.entries.get(key);
    if (hit) {
      opened.body.destroy();
      return hit;
    }
    const raw = await text(opened);
    try {
      const parts = parseTemplate(withWarnings(raw));
      return this.remember(key, { parts, raw, theme: parts.some((p) => typeof p !== 'string' && p.name === 'ThemeStyle') });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      return this.remember(key, { parts: null, raw, theme: false }); // cozy-stack serves a file it cannot parse as it is
    }
  }
}
