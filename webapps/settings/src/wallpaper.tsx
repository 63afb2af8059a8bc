/**
 * Home's wallpaper (PUT/GET/DELETE /settings/wallpaper): the one set is shown small, another image can be chosen (the
 * file picker, from the keyboard too), and Reset goes back to the instance's default background.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorView, useBoot, useToast } from '../../shared/components';
import { statusOf } from './hooks';

export function Wallpaper() {
  const { client, t } = useBoot();
  const toast = useToast();
  const [url, setUrl] = useState<string | null>(null);
  const [v, setV] = useState(0);
  const [error, setError] = useState<unknown>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    let made: string | null = null;
    let stop = false;
    client.getStackClient().fetch('GET', '/settings/wallpaper').then((res: Response) => res.blob()).then((blob: Blob) => {
      if (stop) return;
      made = URL.createObjectURL(blob);
      setUrl(made);
    }, (err: unknown) => {
      if (stop) return;
      setUrl(null);
      if (statusOf(err) !== 404) setError(err);
    });
    return () => {
      stop = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [client, v]);
  const run = async (fn: () => Promise<unknown>, done: string) => {
    setError(null);
    try {
      await fn();
      setV((x) => x + 1);
      toast.show(done);
    } catch (err) {
      setError(err);
    } finally {
      if (input.current) input.current.value = '';
    }
  };
  const upload = (file: File | undefined) => {
    if (file) void run(() => client.getStackClient().fetch('PUT', '/settings/wallpaper', file, { headers: { 'Content-Type': file.type || 'application/octet-stream' } }), t('wallpaper.saved'));
  };
  return (
    <section class="card wallpaper-card" aria-labelledby="wallpaper-h">
      <h2 id="wallpaper-h">{t('wallpaper.title')}</h2>
      <p class="muted small">{t('wallpaper.intro')}</p>
      {error != null && <ErrorView error={error} />}
      {url ? <img class="wallpaper-preview" src={url} alt={t('wallpaper.alt')} /> : <p class="small">{t('wallpaper.none')}</p>}
      <div class="row">
        <button type="button" onClick={() => input.current?.click()}>{t('wallpaper.upload')}</button>
        <input ref={input} hidden type="file" aria-label={t('wallpaper.upload')} accept="image/png,image/jpeg,image/webp,image/gif" onChange={(e) => upload(e.currentTarget.files?.[0])} />
        <button type="button" class="ghost" disabled={!url} onClick={() => void run(() => client.getStackClient().fetch('DELETE', '/settings/wallpaper'), t('wallpaper.removed'))}>{t('wallpaper.reset')}</button>
      </div>
      <p class="hint small muted">{t('wallpaper.hint')}</p>
    </section>
  );
}
