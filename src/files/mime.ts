/**
 * A file's MIME type, from its name and its content: the extension (the mime-types database) first,
 * then the content's magic numbers (file-type, on the first bytes), then what the client sent if it
 * is specific, else application/octet-stream. A generic type sent by the client never hides a better one.
 */
import { fileTypeFromBuffer } from 'file-type';
import { lookup } from 'mime-types';

/** How many first bytes are enough to recognise a content (file-type's own figure). */
export const SNIFF_BYTES = 4100;

const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);
const MIME_RE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;

/** What the mime-types database lacks and cozy-stack knows: `.url` internet shortcuts. */
export const SHORTCUT_MIME = 'application/internet-shortcut';

export async function mimeOf(name: string, given?: string, head?: Buffer): Promise<string> {
  const byName = /\.url$/i.test(name) ? SHORTCUT_MIME : lookup(name);
  if (byName) return byName;
  if (head && head.length > 0) {
    const sniffed = await fileTypeFromBuffer(head);
    if (sniffed) return sniffed.mime;
  }
  const sent = (given ?? '').split(';')[0]!.trim().toLowerCase();
  if (!GENERIC.has(sent) && MIME_RE.test(sent)) return sent;
  return 'application/octet-stream';
}
