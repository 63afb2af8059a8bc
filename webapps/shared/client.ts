/**
 * The client the built-in apps' components hold (`useBoot().client`): cozy-client's CozyClient, whose code (about
 * 100 KB gzip) is a chunk loaded after the first paint. Until that chunk is there, the stack client's JSON calls
 * (`getStackClient().fetchJSON`, what a page's first data comes from) go through a plain `fetch` with the app token,
 * failing with cozy-stack-client's own `FetchError`; a refusal of the token (expired, invalid: the errors on which
 * cozy-stack-client renews it) is tried again through cozy-client, which renews it. Once cozy-client is there, every call goes through it. Collections, `save` and `destroy`
 * load it on first use. cozy-realtime runs on this object (realtime.ts): it reads the URL and the token from
 * `getStackClient()` and listens to the client's `tokenRefreshed`, which is forwarded from cozy-client once it is loaded.
 */
import type CozyClient from 'cozy-client/dist/CozyClient';
import tokenErrors, { FetchError } from 'cozy-stack-client/dist/errors';

type Listener = (...args: unknown[]) => void;
type Collection = ReturnType<CozyClient['collection']>;
interface FetchOptions { headers?: Record<string, string> }

/** What the apps use of cozy-stack-client's CozyStackClient. */
export interface StackLike {
  readonly uri: string;
  fullpath(path: string): string;
  getAccessToken(): string;
  getAuthorizationHeader(): string;
  fetchJSON(method: string, path: string, body?: unknown, options?: FetchOptions): Promise<unknown>;
  fetch(method: string, path: string, body?: unknown, options?: FetchOptions): Promise<Response>;
}

/** A response's body as cozy-stack-client reads it: JSON when its type says so, else text. */
async function bodyOf(res: Response): Promise<unknown> {
  return /\bapplication\/(vnd\.api\+)?json\b/.test(res.headers.get('content-type') ?? '') ? res.json() : res.text();
}

export class AppClient {
  private real: CozyClient | null = null;
  private loading: Promise<CozyClient> | null = null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly stack: StackLike;

  constructor(private readonly options: { uri: string; token: string; slug: string }) {
    this.stack = {
      uri: options.uri,
      fullpath: (path) => (path.startsWith('http') ? path : options.uri + path),
      getAccessToken: () => (this.real ? this.real.getStackClient().getAccessToken() : options.token),
      getAuthorizationHeader: () => `Bearer ${this.stack.getAccessToken()}`,
      fetchJSON: (method, path, body, opts) => this.fetchJSON(method, path, body, opts),
      fetch: async (method, path, body, opts) => (await this.load()).getStackClient().fetch(method, path, body, opts),
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
    const headers: Record<string, string> = { ...options.headers, Accept: 'application/json', Authorization: this.stack.getAuthorizationHeader() };
    let payload = body as BodyInit | undefined;
    if (method !== 'GET' && method !== 'HEAD' && body !== undefined && !headers['Content-Type']) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(this.stack.fullpath(path), { method, headers, body: payload, credentials: 'include' });
    const data = await bodyOf(res);
    if (res.ok) return data;
    const error = new FetchError(res, data);
    const { EXPIRED_TOKEN, INVALID_TOKEN, INVALID_TOKEN_ALT } = tokenErrors;
    if ([EXPIRED_TOKEN, INVALID_TOKEN, INVALID_TOKEN_ALT].some((re) => re.test(error.message))) return (await this.load()).getStackClient().fetchJSON(method, path, body, options);
    throw error;
  }
}
