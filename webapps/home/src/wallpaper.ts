/**
 * The wallpaper the owner chose in Settings (`GET /settings/wallpaper`, Home's GET right on io.cozy.settings), as an
 * object URL for the hero's background; null while it loads, when none is set (404) or when it cannot be read (the
 * instance's default wallpaper is shown then).
 */
import type { AppClient } from '../../shared/client';
import { useEffect, useState } from 'preact/hooks';

export function useCustomWallpaper(client: AppClient): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let made: string | null = null;
    let stop = false;
    void (async () => {
      try {
        // the client's raw fetch: a plain fetch with the app's token until cozy-client is loaded (client.ts)
        const res = await client.getStackClient().fetch('GET', '/settings/wallpaper');
        const blob = await res.blob();
        if (stop || !blob.type.startsWith('image/')) return;
        made = URL.createObjectURL(blob);
        setUrl(made);
      } catch {
        // no wallpaper set (404), or not readable now: the default one stays
      }
    })();
    return () => {
      stop = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client]);
  return url;
}
