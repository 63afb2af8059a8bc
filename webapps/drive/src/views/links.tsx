/** Route #/links: every link the owner shared on files and folders (GET /permissions/doctype/io.cozy.files/shared-by-link), each with the item's name, its password and expiry, copy and revoke. */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Link2 } from 'lucide-preact';
import { Empty, ErrorView, Loading, useBoot } from '../../../shared/components';
import { allShareLinks, namesOf, type ShareLink } from './api';
import { LinkRow } from './share';

export function LinksView(): JSX.Element {
  const { client } = useBoot();
  const { t } = useBoot();
  const [state, setState] = useState<{ links: ShareLink[]; names: Map<string, string> } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    let live = true;
    setError(null);
    (async () => {
      const links = await allShareLinks(client);
      const names = await namesOf(client, [...new Set(links.flatMap((l) => l.fileIds))]);
      if (live) setState({ links, names });
    })().catch((e: unknown) => { if (live) setError(e); });
    return () => { live = false; };
  }, [reload]);
  return (
    <section aria-labelledby="links-title">
      <h1 id="links-title">{t('links.title')}</h1>
      {error ? <ErrorView error={error} onRetry={() => setReload((n) => n + 1)} />
        : state === null ? <Loading />
        : state.links.length === 0 ? <Empty icon={<Link2 aria-hidden="true" />} title={t('links.empty')}><p>{t('links.empty.hint')}</p></Empty>
        : (
          <ul class="list links-list" aria-labelledby="links-title">
            {state.links.map((l) => (
              <LinkRow key={l.id} link={l} name={l.fileIds.map((id) => state.names.get(id) ?? t('links.unknown')).join(', ')} onRevoked={() => setReload((n) => n + 1)} />
            ))}
          </ul>
        )}
    </section>
  );
}
