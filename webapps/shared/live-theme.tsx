/**
 * Follows the instance theme live: the stack announces each change as an `io.cozy.settings.theme.events` event, which
 * every app's token may hear without a right on io.cozy.settings (src/permissions/open-events.ts), and the page takes
 * the new colours and font at once, without a reload. Rendered once per page by the shared app bar.
 * It subscribes once the page is idle after its first render (idle.ts: at most 3 s later): the realtime chunk and its
 * WebSocket (realtime.ts) are then not part of the page's start, and a page that subscribes to nothing else (Settings'
 * sections but the export) opens its socket only then. A theme changed between the page's serving (which writes the
 * current theme into it) and that subscription shows at the next reload.
 */
import type { AppClient } from './client';
import { useEffect } from 'preact/hooks';
import { realtimeOf } from './realtime';
import { applyTheme, type Theme } from './theme';
import { whenIdle } from './idle';

export const THEME_EVENTS = 'io.cozy.settings.theme.events';

export function LiveTheme({ client }: { client: AppClient }): null {
  useEffect(() => {
    const rt = realtimeOf(client);
    const changed = (doc: unknown) => applyTheme(doc as Partial<Record<keyof Theme, unknown>>);
    let subscribed = false;
    const cancel = whenIdle(() => {
      subscribed = true;
      void rt.subscribe('updated', THEME_EVENTS, changed);
    });
    return () => {
      cancel();
      if (subscribed) void rt.unsubscribe('updated', THEME_EVENTS, changed);
    };
  }, [client]);
  return null;
}
