/**
 * The client's realtime (cozy-realtime's plugin), loaded on first use: its module is a chunk of its own, fetched and
 * registered on the client when a page first subscribes (after the first render), not before the page can paint.
 * Subscriptions and unsubscriptions made meanwhile are queued in order on its loading.
 */
import type CozyClient from 'cozy-client/dist/CozyClient';
import type { RealtimeApi } from 'cozy-realtime';

const loaded = new WeakMap<CozyClient, Promise<RealtimeApi>>();

function load(client: CozyClient): Promise<RealtimeApi> {
  let p = loaded.get(client);
  if (!p) {
    p = import('./realtime-plugin').then(({ RealtimePlugin }) => {
      client.registerPlugin(RealtimePlugin, {});
      return (client as unknown as { plugins: { realtime: RealtimeApi } }).plugins.realtime;
    });
    // a failed load (the network) is tried again by the next call
    p.catch(() => loaded.delete(client));
    loaded.set(client, p);
  }
  return p;
}

export function realtimeOf(client: CozyClient): RealtimeApi {
  return {
    subscribe: (...args) => load(client).then((rt) => rt.subscribe(...args)),
    unsubscribe: (...args) => load(client).then((rt) => rt.unsubscribe(...args)),
    unsubscribeAll: () => (loaded.has(client) ? load(client).then((rt) => rt.unsubscribeAll()) : Promise.resolve()),
  };
}
