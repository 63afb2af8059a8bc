/**
 * The client the built-in apps' components hold (`useBoot().client`): cozy-client's CozyClient, whose code (about
 * 100 KB gzip) is a chunk loaded after the first paint. Until that chunk is there, the stack client's calls, JSON
 * (`getStackClient().fetchJSON`, what a page's first data comes from) and raw (`getStackClient().fetch`: a wallpaper,
 * a text), go through a plain `fetch` with the app token, failing with cozy-stack-client's own `FetchError`. A refusal
 * of the token (expired, invalid: the errors on which cozy-stack-client's fetchJSON renews it) is tried again through
 * cozy-client: fetchJSON renews it there; for a raw fetch, which cozy-stack-client does not renew, the client renews
 * it (cozy-stack-client's `refreshToken`: the app's page read again) and tries once more. Once cozy-client is there,
 * every call goes through it. Collections, `save` and `destroy` load it on first use. A GET that a page's early script
 * started before the bundle (early.ts: Drive's first page) is answered, once, with that script's response when ok.
 * cozy-realtime runs on this object (realtime.ts): it reads the URL and the token from `getStackClient()` and listens
 * to the client's `tokenRefreshed`, which is forwarded from cozy-client once it is loaded.
 */
import type CozyClient from 'cozy-client/dist/CozyClient';
import tokenErrors, { FetchError } from 'cozy-stack-client/dist/errors';
import { takeEarly } from './early';

type Listener = (...args: unknown[]) => void;
type CozyStack = ReturnType<CozyClient['getStackClient']>;
type Collection = ReturnType<CozyClient['collection']>;
interface FetchOptions { headers?: Record<string, string> }

/** What the apps use of cozy-stack-client's CozyStackClient. */
export interface StackLike {
  readonly uri: string;
  fullpath(path: string): string;
  getAccessToken(): string;
  getAuthorizationHeader(): string;
  fetchJSON(method: string, path: string, body?: unknown, options?: FetchOptions): Promise<unknown>;
  /**
   * The response of a raw request, which fails (unlike cozy-stack-client's default) with a `FetchError` when it is
   * not ok. As in cozy-stack-client, the body of a request other than GET and HEAD is sent only with a Content-Type.
   */
  fetch(method: string, path: string, body?: unknown, options?: FetchOptions): Promise<Response>;
}

/** A response's body as cozy-stack-client reads it: JSON when its type says so, else text. */
async function bodyOf(res: Response): Promise<unknown> {
  return /\bapplication\/(vnd\.api\+)?json\b/.test(res.headers.get('content-type') ?? '') ? res.json() : res.text();
}

/** Whether cozy-stack-client renews the token on this error (expired, invalid). */
function refusesToken(e: unknown): boolean {
  const { EXPIRED_TOKEN, INVALID_TOKEN, INVALID_TOKEN_ALT } = tokenErrors;
  return (e as Error | null)?.name === 'FetchError' && [EXPIRED_TOKEN, INVALID_TOKEN, INVALID_TOKEN_ALT].some((re) => re.test((e as Error).message));
}

export class AppClient {
  private real: CozyClient | null = null;
  private loading: Promise<CozyClient> | null = null;
  private renewing: Promise<unknown> | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly stack: StackLike;

  constructor(private readonly options: { uri: string; token: string; slug: string }) {
    this.stack = {
      uri: options.uri,
      fullpath: (path) => (path.startsWith('http') ? path : options.uri + path),
      getAccessToken: () => (this.real ? this.real.getStackClient().getAccessToken() : options.token),
      getAuthorizationHeader: () => `Bearer ${this.stack.getAccessToken()}`,
      fetchJSON: (method, path, body, opts) => this.fetchJSON(method, path, body, opts),
      fetch: (method, path, body, opts) => this.fetchRaw(method, path, body, opts),
    };
  }

  /** cozy-client, its chunk loaded on the first call (again after a failed load). */
  load(): Promise<CozyClient> {
    this.loading ??= import('./cozy-client-core').then(({ CozyClient: Client }) => {
      const client = new Client({ uri: this.options.uri, token: this.options.token, appMetadata: { slug: this.options.slug, version: '1' } });
      client.on('tokenRefreshed', () => this.emit('tokenRefreshed'));
      this.real = client;
      return client;
    }, (e: unknown) => {
      this.loading = null;
      throw e;
    });
    return this.loading;
  }

  /** Whether cozy-client is loaded (the calls go through it). */
  get loaded(): boolean {
    return this.real !== null;
  }

  getStackClient(): StackLike {
    return this.stack;
  }

  /** cozy-client's collection of `doctype`: each of its methods loads cozy-client, then runs. */
  collection(doctype: string): Collection {
    return new Proxy({}, {
      // not a thenable: `await client.collection(x)` gives the collection itself
      get: (_, method) => (method === 'then' ? undefined : async (...args: unknown[]) => {
        const c = (await this.load()).collection(doctype) as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>;
        return c[method]!(...args);
      }),
    }) as Collection;
  }

  async save(...args: Parameters<CozyClient['save']>): Promise<unknown> {
    return (await this.load()).save(...args);
  }

  async destroy(...args: Parameters<CozyClient['destroy']>): Promise<unknown> {
    return (await this.load()).destroy(...args);
  }

  on(event: string, fn: Listener): void {
    const set = this.listeners.get(event) ?? new Set<Listener>();
    set.add(fn);
    this.listeners.set(event, set);
  }

  removeListener(event: string, fn: Listener): void {
    this.listeners.get(event)?.delete(fn);
  }

  emit(event: string, ...args: unknown[]): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) fn(...args);
  }

  private async fetchJSON(method: string, path: string, body?: unknown, options: FetchOptions = {}): Promise<unknown> {
    if (this.real) return this.real.getStackClient().fetchJSON(method, path, body, options);
    const headers: Record<string, string> = { ...options.headers, Accept: 'application/json' };
    let payload = body;
    if (method !== 'GET' && method !== 'HEAD' && body !== undefined && !headers['Content-Type']) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    // a response an early script asked for (early.ts), when it is ok: anything else is asked again, as usual
    const early = method === 'GET' && options.headers === undefined ? takeEarly(path) : undefined;
    const res = early ? await early.catch(() => null) : null;
    if (res?.ok) return bodyOf(res);
    try {
      return await bodyOf(await this.plainFetch(method, path, payload, headers));
    } catch (e) {
      if (refusesToken(e)) return (await this.load()).getStackClient().fetchJSON(method, path, body, options);
      throw e;
    }
  }

  private async fetchRaw(method: string, path: string, body?: unknown, options: FetchOptions = {}): Promise<Response> {
    const once = (stack: CozyStack | null) => (stack
      ? stack.fetch(method, path, body, { ...options, throwFetchErrors: true }) as Promise<Response>
      : this.plainFetch(method, path, body, { ...options.headers }));
    try {
      return await once(this.real?.getStackClient() ?? null);
    } catch (e) {
      if (!refusesToken(e)) throw e;
      const stack = (await this.load()).getStackClient();
      // renewed once for the calls refused meanwhile; a renewal that fails leaves the refusal as it was
      const renewal = (this.renewing ??= stack.refreshToken().finally(() => { this.renewing = null; }));
      await renewal.catch(() => { throw e; });
      return once(stack);
    }
  }

  /** A request with the app token, as cozy-stack-client's `fetch` makes it; a response not ok throws its `FetchError`. */
  private async plainFetch(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    headers.Authorization ??= this.stack.getAuthorizationHeader();
    const withBody = method !== 'GET' && method !== 'HEAD' && body !== undefined && headers['Content-Type'] !== undefined;
    const res = await fetch(this.stack.fullpath(path), { method, headers, credentials: 'include', ...(withBody ? { body: body as BodyInit } : {}) });
    if (!res.ok) throw new FetchError(res, await bodyOf(res));
    return res;
  }
}
