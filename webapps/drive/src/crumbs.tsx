/** The folder's path as links, from "My files" down; rows dragged onto a crumb move there. On phones, the last two. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ChevronRight } from 'lucide-preact';
import { useBoot } from '../../shared/components';
import { dragIds } from './listing';
import { useApi } from './listing-data';
import { folderHref, ROOT_ID } from './route';
import type { DriveFile } from './types';

export function Crumbs({ dir, onDropOn }: { dir?: DriveFile; onDropOn(ids: string[], dirId: string): void }): JSX.Element {
  const { t } = useBoot();
  const api = useApi();
  const [above, setAbove] = useState<DriveFile[]>([]);
  const [over, setOver] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    setAbove([]);
    if (dir) api.ancestors(dir).then((a) => { if (!stop) setAbove(a); }).catch(() => undefined);
    return () => { stop = true; };
  }, [dir?._id, dir?.path]);
  const chain = [{ id: ROOT_ID, name: t('nav.files') }, ...above.map((d) => ({ id: d._id, name: d.name }))];
  if (dir && dir._id !== ROOT_ID) chain.push({ id: dir._id, name: dir.name });
  const last = chain.length - 1;
  return (
    <nav aria-label={t('crumbs.label')} class="crumbs">
      <ol>
        {chain.map((c, i) => (
          <li key={c.id} class={i < last - 1 ? 'crumb-far' : undefined}>
            {i > 0 && <ChevronRight size={16} aria-hidden="true" class="crumb-sep" />}
            {i === last ? <h1 class="crumb-here" aria-current="page">{c.name}</h1> : (
              <a href={folderHref(c.id)} class={over === c.id ? 'drop-over' : undefined}
                onDragOver={(e) => { if (e.dataTransfer?.types.includes('application/x-hearth-files')) { e.preventDefault(); setOver(c.id); } }}
                onDragLeave={() => setOver(null)}
                onDrop={(e) => { setOver(null); const ids = dragIds(e); if (ids) { e.preventDefault(); e.stopPropagation(); onDropOn(ids, c.id); } }}>
                {c.name}
              </a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}
