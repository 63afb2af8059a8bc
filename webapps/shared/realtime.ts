/**
 * The page's realtime (cozy-realtime's CozyRealtime), loaded on first use: its module is a chunk of its own, fetched
 * when a page first subscribes (after the first render), not before the page can paint. It runs on the app's client
 * (client.ts: the stack's URL and token, the token's renewals), without waiting for cozy-client's own chunk.
 * Subscriptions and unsubscriptions made meanwhile are queued in order on its loading.
 */
import type { RealtimeApi } from 'cozy-realtime';
import type { AppClient } from './client';

const loaded = new WeakMap<AppClient, Promise<RealtimeApi>>();

function load(client: AppClient): Promise<RealtimeApi> {
  let p = loaded.get(client);
  if (!p) {
    // in three tasks rather than one long one: cozy-realtime's logger evaluated (realtime-log.ts), then its own modules
    // (with the few lodash functions it calls, which the build gives it without lodash's internals:
    // scripts/webapps-shims/lodash-realtime.cjs), then the socket made
    const nextTask = () => new Promise<void>((resolve) => { setTimeout(resolve, 0); });
    p = import('./realtime-log').then(nextTask).then(() => import('./realtime-plugin'))
      .then(({ CozyRealtime }) => nextTask().then(() => new CozyRealtime({ client }) as RealtimeApi));
    // a failed load (the network) is tried again by the next call
    p.catch(() => loaded.delete(client));
    loaded.set(client, p);
  }
  return p;
}

/** cozy-realtime's own events (its emitter): `ready` once each socket is open and its subscriptions sent. */
interface Emitter { on(event: 'ready', fn: () => void): void; removeListener(event: 'ready', fn: () => void): void; waitForSocketReady(): Promise<unknown> }

export function realtimeOf(client: AppClient): RealtimeApi & { onReady(fn: () => void): () => void; ready(ms: number): Promise<boolean> } {
  return {
    subscribe: (...args) => load(client).then((rt) => rt.subscribe(...args)),
    unsubscribe: (...args) => load(client).then((rt) => rt.unsubscribe(...args)),
    unsubscribeAll: () => (loaded.has(client) ? load(client).then((rt) => rt.unsubscribeAll()) : Promise.resolve()),
    /**
     * Calls `fn` each time a socket is ready: the first time (the events between a page's first read and its
     * subscription were not seen) and after each reconnection (nor were those of the time offline). Returns the undo.
     */
    /**
     * Resolves once the socket is open and the subscriptions made so far are sent (true), or after `ms` (false: the
     * realtime is away; the caller goes on without it). Before starting work whose end only an event says.
     */
    ready(ms) {
      const ok = load(client).then((r) => (r as unknown as Emitter).waitForSocketReady()).then(() => true, () => false);
      return Promise.race([ok, new Promise<boolean>((resolve) => { setTimeout(() => resolve(false), ms); })]);
    },
    onReady(fn) {
      let on = true;
      const rt = load(client).then((r) => { if (on) (r as unknown as Emitter).on('ready', fn); return r; });
      rt.catch(() => undefined); // a realtime that cannot load: nothing to listen to (the next subscribe tries again)
      return () => { on = false; void rt.then((r) => (r as unknown as Emitter).removeListener('ready', fn), () => undefined); };
    },
  };
}
