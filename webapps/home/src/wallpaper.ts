/**
 * The wallpaper the owner chose in Settings (`GET /settings/wallpaper`, Home's GET right on io.cozy.settings), as an
 * object URL for the hero's background; null while it loads, when none is set (404) or when it cannot be read (the
 * instance's default wallpaper is shown then). It follows the changes live: the stack announces each one as an
 * UPDATED event of io.cozy.settings/io.cozy.settings.wallpaper (src/settings/wallpaper-routes.ts), and Home reads the
 * wallpaper again, keeping the one it shows until the new one is there.
 */
import type { AppClient } from '../../shared/client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { realtimeOf } from '../../shared/realtime';
import { useFirstRequest } from '../../shared/first-request';

const SETTINGS = 'io.cozy.settings';
const WALLPAPER_ID = 'io.cozy.settings.wallpaper';

/** The wallpaper as an image blob; null when none is set (404); undefined when it cannot be read now. */
async function readWallpaper(client: AppClient): Promise<Blob | null | undefined> {
  try {
    // the client's raw fetch: a plain fetch with the app's token until cozy-client is loaded (client.ts); the answer
    // is `no-cache`, so a read after a change revalidates it
    const res = await client.getStackClient().fetch('GET', '/settings/wallpaper');
    const blob = await res.blob();
    return blob.type.startsWith('image/') ? blob : undefined;
  } catch (e) {
    return (e as { status?: number }).status === 404 ? null : undefined;
  }
}

export function useCustomWallpaper(client: AppClient): string | null {
  const [url, setUrl] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const shown = useRef<string | null>(null);
  useEffect(() => {
    const rt = realtimeOf(client);
    const changed = () => setVersion((v) => v + 1);
    void rt.subscribe('updated', SETTINGS, WALLPAPER_ID, changed);
    return () => void rt.unsubscribe('updated', SETTINGS, WALLPAPER_ID, changed);
  }, [client]);
  const request = useFirstRequest(() => readWallpaper(client));
  useEffect(() => {
    let stop = false;
    void request().then((blob) => {
      if (stop || blob === undefined) return; // not readable now: what is shown stays
      const next = blob ? URL.createObjectURL(blob) : null;
      if (shown.current) URL.revokeObjectURL(shown.current);
      shown.current = next;
      setUrl(next);
    });
    return () => { stop = true; };
  }, [client, version]);
  useEffect(() => () => { if (shown.current) URL.revokeObjectURL(shown.current); }, []);
  return url;
}
