/** Downloads a package over HTTP(S) into a local file while hashing it (sha256), with a size cap and a few redirects. */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { HearthError, NotFound, isDiskFull } from '../../common/errors.js';
import { BadPackage } from './errors.js';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export interface DownloadOptions {
  /** More bytes than this are refused (and what came is deleted by the caller). */
  maxBytes: number;
  /** The whole download, body included, must end within this (default 5 minutes). */
  timeoutMs?: number;
}

/** The URL without credentials nor fragment, for messages. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.hash = '';
    return u.href.slice(0, 300);
  } catch {
    return JSON.stringify(url.slice(0, 300));
  }
}

/** Downloads `url` (http or https) into `file`; returns the sha256 (hex) of its bytes. */
export async function download(url: string, file: string, opts: DownloadOptions): Promise<string> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5 * 60_000);
  let current = url;
  for (let hops = 0; ; hops++) {
    let res: Response;
    try {
      res = await fetch(current, { redirect: 'manual', signal });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new BadPackage(`the package at ${shownUrl(current)} could not be reached (${cause?.code ?? cause?.message ?? (err as Error).message})`);
    }
    if (REDIRECTS.has(res.status)) {
      await res.body?.cancel();
      const location = res.headers.get('location');
      if (hops >= MAX_REDIRECTS) throw new BadPackage(`the package at ${shownUrl(url)} redirects more than ${MAX_REDIRECTS} times`);
      let next: URL;
      try {
        next = new URL(location ?? '', current);
      } catch {
        throw new BadPackage(`the package at ${shownUrl(current)} redirects to an invalid URL`);
      }
      if (!location || (next.protocol !== 'http:' && next.protocol !== 'https:')) throw new BadPackage(`the package at ${shownUrl(current)} redirects to something else than http(s)`);
      current = next.href;
      continue;
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      throw new NotFound(`there is no package at ${shownUrl(current)} (HTTP ${res.status})`);
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new BadPackage(`the package at ${shownUrl(current)} could not be downloaded (HTTP ${res.status})`);
    }
    const announced = Number(res.headers.get('content-length') ?? NaN);
    if (announced > opts.maxBytes) {
      await res.body.cancel();
      throw new BadPackage(`the package at ${shownUrl(current)} is larger than ${opts.maxBytes} bytes`);
    }
    return saveHashed(Readable.fromWeb(res.body as ReadableStream<Uint8Array>), file, opts.maxBytes, shownUrl(current));
  }
}

/** Writes `body` into `file` while hashing it (sha256, hex), refusing more than `maxBytes`; `what` names it in errors. */
export async function saveHashed(body: Readable, file: string, maxBytes: number, what: string): Promise<string> {
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > maxBytes) return cb(new BadPackage(`the package at ${what} is larger than ${maxBytes} bytes`));
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(body, tap, createWriteStream(file));
  } catch (err) {
    if (err instanceof HearthError) throw err;
    if (isDiskFull(err)) throw err;
    throw new BadPackage(`the download of ${what} failed (${(err as Error).message})`);
  }
  return hash.digest('hex');
}
