/**
 * A file's MIME type, as cozy-stack picks it: from the name's extension (the mime-types database),
 * else from what the client sent, else application/octet-stream. A generic type sent by the client
 * (octet-stream) does not hide a better one known from the extension.
 */
import { lookup } from 'mime-types';

const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream']);

export function mimeOf(name: string, given?: string): string {
  const sent = (given ?? '').split(';')[0]!.trim().toLowerCase();
  const byName = lookup(name);
  if (byName) return byName;
  if (!GENERIC.has(sent) && /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(sent)) return sent;
  return 'application/octet-stream';
}
