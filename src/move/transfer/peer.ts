/**
 * The calls one server makes to the other during a move (cozy-stack's move requests): small bodies, a timeout, answers
 * read up to a bound, and addresses checked first (http or https, no credentials, only an origin).
 */
import http from 'node:http';
import https from 'node:https';
import { lookupFor, refusedLiteral } from '../net.js';

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

/**
 * One request to the other server; refuses nothing itself (the caller reads `status`), throws PeerError when unreachable
 * or when the address is not allowed (move/net.ts: public addresses only unless `allowPrivate`). `follow`: a 30x answer
 * is followed with a GET on the same origin (T's 303 to its waiting page, which the source requires to end in 200).
 */
export async function callPeer(url: string, o: { method?: string; token?: string; json?: unknown; form?: Record<string, string>; follow?: boolean; allowPrivate: boolean }): Promise<PeerAnswer> {
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
  const first = await send(new URL(url), o.method ?? 'POST', headers, body, o.allowPrivate);
  if (!o.follow || first.status < 300 || first.status >= 400 || !first.location) return first;
  const next = new URL(first.location, url);
  if (next.origin !== new URL(url).origin) throw new PeerError(`${new URL(url).origin} redirected to another server (${next.origin})`);
  return send(next, 'GET', { accept: 'application/json', ...(o.token ? { authorization: headers.authorization! } : {}) }, undefined, o.allowPrivate);
}

function send(url: URL, method: string, headers: Record<string, string>, body: string | undefined, allowPrivate: boolean): Promise<PeerAnswer & { location?: string }> {
  const origin = url.origin;
  const fail = (why: string) => new PeerError(`${origin} did not answer: ${why}`);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(fail('only http and https are used'));
  const refused = refusedLiteral(url.hostname, allowPrivate);
  if (refused) return Promise.reject(fail(refused));
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, {
      method, headers: { ...headers, ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}) }, lookup: lookupFor(allowPrivate), timeout: TIMEOUT_MS,
    }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER) chunks.push(chunk);
      });
      res.on('error', (err) => reject(fail(err.message)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER);
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          /* not JSON: kept as text */
        }
        const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
        resolve({ status: res.statusCode ?? 0, body: parsed, ...(location ? { location } : {}) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer in ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(fail(err.message)));
    req.end(body);
  });
}
