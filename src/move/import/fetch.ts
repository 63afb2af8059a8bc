/**
 * The import's downloads: the export document and its parts, from a URL a person pasted (every input is hostile).
 * Only http(s); no redirects; every address the host name resolves to must be a public unicast one unless the
 * operator allows private ones (`imports.allowPrivateUrls`, for tests and private networks: off by default), checked
 * at connection time (the socket's own DNS lookup, so a name cannot resolve to a public address when checked and to a
 * private one when connected); every download bounded in size and time.
 */
import { createWriteStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable } from 'node:stream';
import { PreconditionFailed, UnprocessableEntity } from '../../common/errors.js';
import { lookupFor, refusedLiteral } from '../net.js';

export interface FetchPolicy {
  allowPrivate: boolean;
  timeoutMs: number;
}

const badUrl = (why: string) => new UnprocessableEntity(`the export link is not usable: ${why}`, 'unprocessable_entity', 'url');

/**
 * The export document's URL of a link: the settings link cozy mails (`https://<settings host>/#/exports/<MAC>`,
 * nested `settings.<instance>` or flat `<name>-settings.<domain>`), or the document's own `…/move/exports/<MAC>`.
 */
export function manifestUrlOf(link: string): string {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw badUrl('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badUrl('only http and https links are accepted');
  if (url.username || url.password) throw badUrl('a link with credentials');
  const own = /^\/move\/exports\/([A-Za-z0-9_-]{1,1024})$/.exec(url.pathname);
  if (own) return `${url.origin}/move/exports/${own[1]}`;
  const mac = /^#\/exports\/([A-Za-z0-9_-]{1,1024})$/.exec(url.hash);
  if (!mac) throw badUrl('expected https://<settings host>/#/exports/<code>');
  const [first, ...rest] = url.hostname.split('.');
  let host: string;
  if (first === 'settings' && rest.length) host = rest.join('.');
  else if (first?.endsWith('-settings')) host = [first.slice(0, -'-settings'.length), ...rest].join('.');
  else throw badUrl('not the address of a settings app');
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}/move/exports/${mac[1]}`;
}

/** The URL of a part of the export whose document is at `manifestUrl` (`cursor` null: the first part). */
export function partUrlOf(manifestUrl: string, cursor: string | null): string {
  const url = new URL(manifestUrl.replace('/move/exports/', '/move/exports/data/'));
  if (cursor !== null) url.searchParams.set('cursor', cursor);
  return url.toString();
}

/** GET `url`: the response once its status is 200, or a PreconditionFailed naming the parameter `url`. */
function get(url: string, policy: FetchPolicy, signal?: AbortSignal): Promise<http.IncomingMessage> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const refused = refusedLiteral(u.hostname, policy.allowPrivate);
  if (refused) return Promise.reject(Object.assign(new PreconditionFailed(`the export could not be fetched: ${refused}`), { parameter: 'url' }));
  return new Promise((resolve, reject) => {
    const req = mod.get(u, { timeout: policy.timeoutMs, headers: { accept: '*/*' }, lookup: lookupFor(policy.allowPrivate), ...(signal ? { signal } : {}) }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new PreconditionFailed(`the export server answered ${res.statusCode} for ${u.pathname}`, 'precondition_failed'));
      }
      resolve(res);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${u.host} in ${policy.timeoutMs} ms`)));
    req.on('error', (err) => reject(Object.assign(new PreconditionFailed(`the export could not be fetched: ${err.message}`), { parameter: 'url' })));
  });
}

/** Counts bytes, fails past `max`, and past `deadline` (ms since epoch). */
function bounded(max: number, deadline: number, what: string): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > max) return cb(new Error(`${what} is larger than ${max} bytes`));
      if (Date.now() > deadline) return cb(new Error(`${what} took longer than allowed`));
      cb(null, chunk);
    },
  });
}

/** The JSON at `url`, at most `max` bytes. */
export async function fetchJson(url: string, policy: FetchPolicy, max = 1024 * 1024, signal?: AbortSignal): Promise<unknown> {
  const res = await get(url, policy, signal);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      cb();
    },
  });
  await pipeline(res, bounded(max, Date.now() + policy.timeoutMs, 'the export document'), sink);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new PreconditionFailed('the export document is not JSON');
  }
}

/** Downloads `url` into the file `path`: at most `max` bytes, within `totalMs`. */
export async function download(url: string, path: string, policy: FetchPolicy, max: number, totalMs: number, signal?: AbortSignal): Promise<void> {
  const res = await get(url, policy, signal);
  await pipeline(res, bounded(max, Date.now() + totalMs, 'a part of the export'), createWriteStream(path, { mode: 0o600 }), ...(signal ? [{ signal }] : []));
}
