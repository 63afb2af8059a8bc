/**
 * The calls one server makes to the other during a move (cozy-stack's move requests): small bodies, a timeout, answers
 * read up to a bound, and addresses checked first (http or https, no credentials, only an origin).
 */
export const MOVE_SCOPE = 'io.cozy.exports.requests io.cozy.imports';
/** cozy-stack's fake client id of the access codes of GET /move/authorize (the cozy-move service's flow). */
export const MOVE_FAKE_CLIENT = 'move';

const TIMEOUT_MS = 30_000;
const MAX_ANSWER = 64 * 1024;

export class PeerError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
  }
}

/** The origin of a typed address (`alice.example.org`, `https://alice.example.org/`), or null when it is not one. */
export function peerOrigin(raw: unknown): string | null {
  if (typeof raw !== 'string') return null;
  const s = raw.trim();
  if (!s || s.length > 300) return null;
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(s) ? s : `${loopbackName(s) ? 'http' : 'https'}://${s}`);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || !url.hostname) return null;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return null;
  return url.origin;
}

function loopbackName(s: string): boolean {
  const host = s.replace(/[:/].*$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || s.startsWith('[::1]');
}

export interface PeerAnswer {
  status: number;
  body: unknown;
}

/** One request to the other server; refuses nothing itself (the caller reads `status`), throws PeerError when unreachable. */
export async function callPeer(url: string, o: { method?: string; token?: string; json?: unknown; form?: Record<string, string>; follow?: boolean }): Promise<PeerAnswer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | undefined;
  if (o.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(o.json);
  } else if (o.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  }
  let res: Response;
  try {
    res = await fetch(url, { method: o.method ?? 'POST', headers, ...(body !== undefined ? { body } : {}), redirect: o.follow ? 'follow' : 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    throw new PeerError(`${new URL(url).origin} did not answer: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await readBounded(res);
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: kept as text */
  }
  return { status: res.status, body: parsed };
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_ANSWER) break;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER);
}
