/**
 * Content-Disposition for any file name (RFC 6266): a quoted ASCII fallback (`filename="…"`) that
 * every client understands, plus the exact name in RFC 5987/8187 form (`filename*=UTF-8''…`) when
 * the fallback had to change it. Quotes, backslashes, slashes, controls and non-ASCII characters
 * never reach the quoted form.
 */

/** RFC 8187 attr-char: what may stay unencoded in `filename*`. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

function extValue(name: string): string {
  let out = '';
  for (const ch of name) out += ATTR_CHAR.test(ch) ? ch : [...Buffer.from(ch, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return out;
}

function asciiFallback(name: string): string {
  let out = '';
  for (const ch of name.normalize('NFKD')) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x300 && code <= 0x36f) continue; // combining accents: "é" falls back to "e"
    out += code >= 0x20 && code < 0x7f && ch !== '"' && ch !== '\\' && ch !== '/' ? ch : '_';
  }
  return out.trim() === '' ? 'download' : out;
}

export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  const fallback = asciiFallback(name);
  if (fallback === name) return `${type}; filename="${fallback}"`;
  return `${type}; filename="${fallback}"; filename*=UTF-8''${extValue(name)}`;
}
