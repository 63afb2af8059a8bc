/**
 * Route #/photos: every photo of Drive on a timeline grouped by the month it was taken (its EXIF date, else its
 * upload), newest first, as square thumbnails (`links.small`). Pages load as one scrolls near the end (and by the
 * "Load more" button, for keyboards); a photo opens in the Preview, which moves through the loaded photos.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Image as ImageIcon } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../../shared/components';
import type { DriveFile } from '../types';
import { photosPage, takenAt } from './api';
import { Preview } from './preview';

const PAGE = 60;

function byMonth(photos: DriveFile[], locale: string): { key: string; label: string; photos: DriveFile[] }[] {
  const fmt = new Intl.DateTimeFormat(locale, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  const groups: { key: string; label: string; photos: DriveFile[] }[] = [];
  for (const p of photos) {
    const when = takenAt(p);
    const key = when.slice(0, 7);
    let g = groups[groups.length - 1];
    if (!g || g.key !== key) {
      const d = new Date(when);
      g = { key, label: Number.isNaN(d.getTime()) ? '—' : fmt.format(d), photos: [] };
      groups.push(g);
    }
    g.photos.push(p);
  }
  return groups;
}

export function PhotosView(): JSX.Element {
  const { client, locale, stackOrigin } = useBoot();
  const { t } = useBoot();
  const [photos, setPhotos] = useState<DriveFile[] | null>(null);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [open, setOpen] = useState<DriveFile | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const state = useRef({ loading: false, next: undefined as string | undefined, done: false });

  const load = async (first: boolean) => {
    if (state.current.loading || (!first && (state.current.done || !state.current.next))) return;
    state.current.loading = true;
    setLoading(true);
    setError(null);
    try {
      const page = await photosPage(client, PAGE, first ? undefined : state.current.next);
      state.current.next = page.next;
      state.current.done = !page.next;
      setNext(page.next);
      setPhotos((old) => (first || !old ? page.photos : [...old, ...page.photos]));
    } catch (e) {
      setError(e);
    } finally {
      state.current.loading = false;
      setLoading(false);
    }
  };
  useEffect(() => { void load(true); }, []);
  useEffect(() => {
    const el = sentinel.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) void load(false); }, { rootMargin: '600px' });
    io.observe(el);
    return () => io.disconnect();
  }, [photos !== null]);

  const groups = photos ? byMonth(photos, locale) : [];
  return (
    <section aria-labelledby="photos-title">
      <h1 id="photos-title">{t('photos.title')}</h1>
      {photos && photos.length > 0 && <p class="muted small">{t('photos.count', { n: photos.length })}{next ? '+' : ''}</p>}
      {photos === null && !error && <Loading />}
      {photos && photos.length === 0 && <Empty icon={<ImageIcon aria-hidden="true" />} title={t('photos.empty')}><p>{t('photos.empty.hint')}</p></Empty>}
      {groups.map((g) => (
        <section key={g.key} aria-labelledby={`m-${g.key}`}>
          <h2 class="photos-month" id={`m-${g.key}`}>{g.label}</h2>
          <ul class="photos-grid">
            {g.photos.map((p) => (
              <li key={p._id}>
                <button type="button" aria-label={t('photos.open', { name: p.name })} onClick={() => setOpen(p)}>
                  {p.links?.small ? <img src={`${stackOrigin}${p.links.small}`} alt="" loading="lazy" width={160} height={160} /> : <ImageIcon aria-hidden="true" />}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
      {error ? <ErrorView error={error} onRetry={() => void load(photos === null)} /> : null}
      <div ref={sentinel} class="photos-more">
        {photos && next && !error && (loading ? <Loading /> : <button type="button" onClick={() => void load(false)}>{t('photos.more')}</button>)}
      </div>
      {open && photos && <Preview file={open} files={photos} onNavigate={setOpen} onClose={() => setOpen(null)} />}
    </section>
  );
}
