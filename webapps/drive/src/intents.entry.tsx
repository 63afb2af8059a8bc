/**
 * Drive's PICK intent for io.cozy.files (manifest `intents`, href /intents): another app opens this page in a frame
 * through cozy-interapp; one browses the folders, selects a file and chooses it, and the other app receives the
 * file's document (or a cancellation).
 */
import '../../shared/ui.css';
import './views/views.css';
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { File as FileIcon, Folder } from 'lucide-preact';
import Intents, { type IntentService } from 'cozy-interapp';
import { mount } from '../../shared/mount';
import { ErrorView, Loading, useBoot } from '../../shared/components';
import { formatBytes } from '../../shared/i18n';
import type { DriveFile } from './types';
import { listFolder } from './views/api';
import { VIEWS_EN, VIEWS_FR } from './views/strings';

const ROOT = 'io.cozy.files.root-dir';

function Picker(): JSX.Element {
  const { client, locale } = useBoot();
  const { t } = useBoot();
  const [service, setService] = useState<IntentService | null>(null);
  const [trail, setTrail] = useState<{ id: string; name: string }[]>([{ id: ROOT, name: t('pick.root') }]);
  const [items, setItems] = useState<DriveFile[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [selected, setSelected] = useState<DriveFile | null>(null);
  const dir = trail[trail.length - 1]!;
  useEffect(() => {
    client.load().then((c) => new Intents({ client: c }).createService()).then(setService, setError);
  }, []);
  useEffect(() => {
    let live = true;
    setItems(null);
    setSelected(null);
    listFolder(client, dir.id).then(
      (l) => { if (live) setItems(l.filter((f) => !f.trashed && f._id !== 'io.cozy.files.trash-dir').sort((a, b) => (a.type === b.type ? a.name.localeCompare(b.name) : a.type === 'directory' ? -1 : 1))); },
      (e: unknown) => { if (live) setError(e); },
    );
    return () => { live = false; };
  }, [dir.id]);
  const choose = () => { if (service && selected) service.terminate(selected); };
  return (
    <main id="main" class="content">
      <h1>{t('pick.title')}</h1>
      <nav aria-label={t('pick.breadcrumb')}>
        <ol class="crumbs">
          {trail.map((d, i) => (
            <li key={d.id}>
              {i < trail.length - 1
                ? <><button type="button" class="ghost" aria-label={t('pick.up', { name: d.name })} onClick={() => setTrail(trail.slice(0, i + 1))}>{d.name}</button> /</>
                : <strong aria-current="location">{d.name}</strong>}
            </li>
          ))}
        </ol>
      </nav>
      {error ? <ErrorView error={error} />
        : items === null ? <Loading />
        : items.length === 0 ? <p class="empty">{t('pick.empty')}</p>
        : (
          <ul class="list" aria-label={dir.name}>
            {items.map((f) => (
              <li key={f._id} aria-selected={selected?._id === f._id ? 'true' : undefined}>
                {f.type === 'directory' ? <Folder size={22} aria-hidden="true" /> : <FileIcon size={22} aria-hidden="true" />}
                {f.type === 'directory'
                  ? <button type="button" class="entry-button" aria-label={t('pick.open', { name: f.name })} onClick={() => setTrail([...trail, { id: f._id, name: f.name }])}>{f.name}</button>
                  : <button type="button" class="entry-button" aria-pressed={selected?._id === f._id} aria-label={t('pick.select', { name: f.name })} onClick={() => setSelected(f)} onDblClick={() => { setSelected(f); if (service) service.terminate(f); }}><span class="ellipsis">{f.name}</span></button>}
                {f.type === 'file' && <span class="muted small">{formatBytes(Number(f.size ?? 0), locale)}</span>}
              </li>
            ))}
          </ul>
        )}
      <div class="row" style={{ justifyContent: 'flex-end', marginTop: '1rem' }}>
        <button type="button" disabled={!service} onClick={() => service?.cancel()}>{t('common.cancel')}</button>
        <button type="button" class="primary" disabled={!service || !selected} aria-describedby={selected ? undefined : 'pick-hint'} onClick={choose}>{t('pick.choose')}</button>
      </div>
      {!selected && <p id="pick-hint" class="muted small" style={{ textAlign: 'right' }}>{t('pick.nothing')}</p>}
    </main>
  );
}

mount(Picker, { en: VIEWS_EN, fr: VIEWS_FR });
