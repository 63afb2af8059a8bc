/**
 * Just enough MIME reading for `hearth mails show` (mailparser is a dev dependency):
 * top-level headers with RFC 2047 words decoded, the first text/plain part
 * (base64, quoted-printable or 7/8bit; nodemailer writes UTF-8) and the attachments' names.
 */
export interface ReadMail {
  headers: Array<[string, string]>;
  text: string | null;
  attachments: Array<{ filename: string; contentType: string }>;
}

type Part = { headers: Array<[string, string]>; body: string };

function splitPart(raw: string): Part {
  const sep = /\r?\n\r?\n/.exec(raw);
  const head = sep ? raw.slice(0, sep.index) : raw;
  const body = sep ? raw.slice(sep.index + sep[0].length) : '';
  const headers = head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/).filter(Boolean).map((line): [string, string] => {
    const i = line.indexOf(':');
    return [line.slice(0, i).trim(), line.slice(i + 1).trim()];
  });
  return { headers, body };
}

const get = (p: Part, name: string): string =>
  p.headers.find(([k]) => k.toLowerCase() === name)?.[1] ?? '';

const param = (value: string, name: string): string | undefined =>
  new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value)?.slice(1).find((v) => v !== undefined);

function decodeQp(s: string): Buffer {
  const bytes = s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1');
}

function decodeBody(p: Part): string {
  const cte = get(p, 'content-transfer-encoding').toLowerCase();
  const bytes = cte === 'base64' ? Buffer.from(p.body, 'base64') : cte === 'quoted-printable' ? decodeQp(p.body) : Buffer.from(p.body, 'latin1');
  const charset = param(get(p, 'content-type'), 'charset') ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** `=?UTF-8?Q?caf=C3=A9?=` → `café` (adjacent encoded words join without their space). */
export function decodeWords(value: string): string {
  return value.replace(/\?=\s+=\?/g, '?==?').replace(/=\?([^?]+)\?([bq])\?([^?]*)\?=/gi, (_m, charset: string, enc: string, text: string) => {
    const bytes = enc.toLowerCase() === 'b' ? Buffer.from(text, 'base64') : decodeQp(text.replaceAll('_', ' '));
    try {
      return new TextDecoder(charset).decode(bytes);
    } catch {
      return bytes.toString('utf8');
    }
  });
}

/** filename="a.pdf", or its RFC 2231 form filename*0*=utf-8''%C3%A9t%C3%A9;filename*1*=... */
function filename(disposition: string): string {
  const plain = param(disposition, 'filename');
  if (plain !== undefined) return decodeWords(plain);
  const pieces = [...disposition.matchAll(/;\s*filename\*(\d*)(\*?)\s*=\s*(?:"([^"]*)"|([^;\s]+))/gi)];
  const joined = pieces.map((m) => m[3] ?? m[4] ?? '').join('');
  const encoded = pieces.some((m) => m[2] === '*');
  const value = encoded ? joined.replace(/^[^']*'[^']*'/, '') : joined;
  try {
    return encoded ? decodeURIComponent(value) : value;
  } catch {
    return value;
  }
}

function walk(p: Part, mail: ReadMail, depth = 0): void {
  const type = get(p, 'content-type').toLowerCase() || 'text/plain';
  const disposition = get(p, 'content-disposition');
  if (type.startsWith('multipart/') && depth < 8) {
    const boundary = param(get(p, 'content-type'), 'boundary');
    const chunks = boundary ? p.body.split(`--${boundary}`).slice(1, -1) : [];
    for (const chunk of chunks) walk(splitPart(chunk.replace(/^\r?\n/, '').replace(/\r?\n$/, '')), mail, depth + 1);
  } else if (disposition.toLowerCase().startsWith('attachment')) {
    mail.attachments.push({ filename: filename(disposition), contentType: type.split(';')[0] ?? type });
  } else if (type.startsWith('text/plain') && mail.text === null) {
    mail.text = decodeBody(p);
  }
}

export function readMail(eml: Buffer): ReadMail {
  const top = splitPart(eml.toString('latin1'));
  const headers = top.headers.map(([k, v]): [string, string] => [k, decodeWords(Buffer.from(v, 'latin1').toString('utf8'))]);
  const mail: ReadMail = { headers, text: null, attachments: [] };
  walk(top, mail);
  return mail;
}
