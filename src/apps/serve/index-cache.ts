/**
 * Parsed index templates, kept per app version and file content (the ETag): a page is parsed once, then each request
 * only fills the holes. Bounded: past MAX entries the oldest is dropped.
 */
import type { AppDoc, OpenedAppFile } from '../types.js';
import { parseTemplate, TemplateError, withWarnings, type Part } from './template.js';

const MAX = 1000;

async function text(opened: OpenedAppFile): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of opened.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

interface Entry { parts: Part[] | null; raw: string }

export class IndexCache {
  private readonly entries = new Map<string, Entry>();

  private async entry(app: Pick<AppDoc, 'slug' | 'version' | 'checksum'>, file: string, opened: OpenedAppFile): Promise<Entry> {
    const key = `${app.slug}\n${app.version}\n${app.checksum}\n${file}\n${opened.etag}`;
    const hit = this.entries.get(key);
    if (hit) {
      opened.body.destroy();
      return hit;
    }
    const raw = await text(opened);
    let parts: Part[] | null;
    try {
      parts = parseTemplate(withWarnings(raw));
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      parts = null; // cozy-stack serves a file it cannot parse as it is
    }
    const entry = { parts, raw };
    if (this.entries.size >= MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, entry);
    return entry;
  }

  /** The parsed template, or null when the file is not a template this engine reads (serve it raw). */
  async parts(app: Pick<AppDoc, 'slug' | 'version' | 'checksum'>, file: string, opened: OpenedAppFile): Promise<Part[] | null> {
    return (await this.entry(app, file, opened)).parts;
  }

  /** The file's text, as read by parts() (which must have been called just before with the same file). */
  async raw(app: Pick<AppDoc, 'slug' | 'version' | 'checksum'>, file: string, opened: OpenedAppFile): Promise<string> {
    return (await this.entry(app, file, opened)).raw;
  }
}
