/**
 * A small client of OpenStack Swift's native API (v1 auth, as tempauth and Keystone's v1 shim answer it): the token
 * is fetched on first use and again when Swift answers 401; requests go through node:http(s) so that an upload streams
 * with chunked transfer and `Expect: 100-continue` (a refusal — 401, 413… — comes before any byte of the body left,
 * so a 401 is retried with a new token without replaying anything).
 *
 * Connection failures become ObjectStoreUnavailable (503 with Retry-After at the routes), as does Swift's own 503.
 */
import { request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { buffer } from 'node:stream/consumers';
import { InsufficientStorage } from './store.js';
import { isUnreachable, ObjectStoreUnavailable } from '../../engines/object-store.js';

export interface SwiftCredentials {
  authUrl: string;
  user: string;
  key: string;
}

export interface SwiftResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
}

/** An object upload under way: write its bytes, then `end()` for Swift's answer; `abort()` cuts it (Swift keeps nothing). */
export interface SwiftPut {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<SwiftResponse>;
  abort(): void;
}

/** An error answer of Swift, as the engine's error (a full store is 507; Swift's own 503 means unreachable). */
export function swiftError(status: number, what: string, detail = ''): Error {
  if (status === 413 || status === 507) return new InsufficientStorage();
  if (status === 503 || status === 502 || status === 504) return new ObjectStoreUnavailable(`Swift answered ${status} to ${what}`);
  return new Error(`Swift answered ${status} to ${what}${detail ? `: ${detail.slice(0, 200)}` : ''}`);
}

const wrap = (err: unknown): unknown => (isUnreachable(err) ? new ObjectStoreUnavailable((err as Error).message, { cause: err }) : err);

export class SwiftClient {
  private session: Promise<{ storageUrl: string; token: string }> | null = null;

  constructor(private readonly creds: SwiftCredentials) {}

  private login(): Promise<{ storageUrl: string; token: string }> {
    const session = (async () => {
      const res = await this.raw('GET', new URL(this.creds.authUrl), { 'X-Auth-User': this.creds.user, 'X-Auth-Key': this.creds.key });
      res.body.resume();
      const storageUrl = res.headers['x-storage-url'];
      const token = res.headers['x-auth-token'];
      if (res.status >= 300 || typeof storageUrl !== 'string' || typeof token !== 'string') {
        throw res.status === 401 ? new Error('Swift refused hearth\'s credentials (blobs.swift.user and key)') : swiftError(res.status, 'the authentication');
      }
      return { storageUrl, token };
    })();
    this.session = session;
    session.catch(() => {
      if (this.session === session) this.session = null;
    });
    return session;
  }

  private async url(path: string): Promise<{ url: URL; token: string; session: Promise<unknown> }> {
    const session = this.session ?? this.login();
    const { storageUrl, token } = await session;
    return { url: new URL(storageUrl + path), token, session };
  }

  /** The token went stale (Swift answered 401): the next request logs in again. */
  private forget(session: Promise<unknown>): void {
    if (this.session === session) this.session = null;
  }

  private send(method: string, url: URL, headers: Record<string, string>): ClientRequest {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method, headers });
    req.setNoDelay(true);
    return req;
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body?: Buffer): Promise<SwiftResponse> {
    return new Promise((resolve, reject) => {
      const req = this.send(method, url, body ? { ...headers, 'Content-Length': String(body.length) } : headers);
      req.on('error', (err) => reject(wrap(err)));
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
      req.end(body);
    });
  }

  /** A request on the account (`path`: '/container/object?query'), retried once with a new token on 401. */
  async request(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<SwiftResponse> {
    for (let attempt = 0; ; attempt++) {
      const { url, token, session } = await this.url(path);
      const res = await this.raw(method, url, { ...headers, 'X-Auth-Token': token }, body);
      if (res.status !== 401 || attempt > 0) return res;
      res.body.resume();
      this.forget(session);
    }
  }

  /** A request whose answer is read whole (listings, manifests, errors). */
  async call(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    const res = await this.request(method, path, headers, body);
    return { status: res.status, headers: res.headers, text: (await buffer(res.body)).toString('utf8') };
  }

  /** Starts a streamed PUT of `path`: resolves once Swift said "100 Continue" (its refusals reject, a 401 after a new login). */
  async put(path: string, headers: Record<string, string>): Promise<SwiftPut> {
    for (let attempt = 0; ; attempt++) {
      const { url, token, session } = await this.url(path);
      const started = await this.startPut(url, { ...headers, 'X-Auth-Token': token, 'Transfer-Encoding': 'chunked', Expect: '100-continue' });
      if ('put' in started) return started.put;
      started.res.body.resume();
      if (started.res.status !== 401 || attempt > 0) throw swiftError(started.res.status, `PUT ${path}`);
      this.forget(session);
    }
  }

  private startPut(url: URL, headers: Record<string, string>): Promise<{ put: SwiftPut } | { res: SwiftResponse }> {
    return new Promise((resolve, reject) => {
      const req = this.send('PUT', url, headers);
      let failed: unknown = null;
      let answer: SwiftResponse | null = null;
      let answered: ((res: SwiftResponse) => void) | null = null;
      let continued = false;
      req.on('error', (err) => {
        failed ??= wrap(err);
        if (!continued) reject(failed);
      });
      req.on('response', (res) => {
        answer = { status: res.statusCode ?? 0, headers: res.headers, body: res };
        // an answer before the body was sent is a refusal; during it, Swift stopped reading (a full store, a limit)
        if (!continued) resolve({ res: answer });
        else if (answered) answered(answer);
        else if (answer.status >= 300) failed ??= swiftError(answer.status, `PUT ${url.pathname}`);
      });
      req.on('continue', () => {
        continued = true;
        resolve({ put });
      });
      const whenDrained = () => new Promise<void>((ok, ko) => {
        const drained = () => {
          req.off('drain', drained).off('close', closed);
          ok();
        };
        const closed = () => {
          req.off('drain', drained).off('close', closed);
          ko(failed ?? new ObjectStoreUnavailable('the connection to Swift closed during an upload'));
        };
        req.on('drain', drained).on('close', closed);
      });
      const put: SwiftPut = {
        write: async (chunk) => {
          if (failed) throw failed;
          if (!req.write(chunk)) await whenDrained();
          if (failed) throw failed;
        },
        end: () => new Promise<SwiftResponse>((ok, ko) => {
          if (failed) return ko(failed);
          if (answer) return ok(answer);
          answered = ok;
          req.once('close', () => {
            if (!answer) ko(failed ?? new ObjectStoreUnavailable('the connection to Swift closed before its answer'));
          });
          req.end();
        }),
        abort: () => {
          failed ??= new Error('upload aborted');
          req.destroy();
        },
      };
      req.flushHeaders();
    });
  }
}
