/**
 * Follows the instance theme live: the stack announces each change as an `io.cozy.settings.theme.events` event, which
 * every app's token may hear without a right on io.cozy.settings (src/permissions/open-events.ts), and the page takes
 * the new colours and font at once, without a reload. Rendered once per page by the shared app bar.
 */
import type { AppClient } from './client';
import { useEffect } from 'preact/hooks';
import { realtimeOf } from './realtime';
import { applyTheme, type Theme } from './theme';

export const THEME_EVENTS = 'io.cozy.settings.theme.events';

export function LiveTheme({ client }: { client: AppClient }): null {
  useEffect(() => {
    const rt = realtimeOf(client);
    const changed = (doc: unknown) => applyTheme(doc as Partial<Record<keyof Theme, unknown>>);
    void rt.subscribe('updated', THEME_EVENTS, changed);
    return () => void rt.unsubscribe('updated', THEME_EVENTS, changed);
  }, [client]);
  return null;
}
