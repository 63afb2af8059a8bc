/**
 * The `.url` internet-shortcut format (Windows' InternetShortcut, cozy-stack's pkg/shortcut): a
 * `[InternetShortcut]` first line, then `URL=<address>`, lines ended by CRLF.
 */
import { BadRequest } from '../common/errors.js';

const SECTION = '[InternetShortcut]';

/** The most a shortcut file may weigh to be read (a real one is a line or two). */
export const MAX_SHORTCUT_BYTES = 64 * 1024;

export function generateShortcut(url: string): Buffer {
  return Buffer.from(`${SECTION}\r\nURL=${url}\r\n`, 'utf8');
}

/** The address of a shortcut file (the last `URL=` line), or a 400 if it is not one. */
export function parseShortcut(content: Buffer): string {
  const lines = content.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.length < 2 || lines[0] !== SECTION) throw new BadRequest('The file is not in the expected format');
  let url = '';
  for (const line of lines.slice(1)) {
    const eq = line.indexOf('=');
    if (eq >= 0 && line.slice(0, eq) === 'URL') url = line.slice(eq + 1);
  }
  if (!url) throw new BadRequest('No URL found');
  return url;
}
