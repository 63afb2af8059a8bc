/** Quick links to the latest changed files (by updated_at), each opening Drive at its folder with its preview. */
import type { JSX } from 'preact';
import { FolderOpen } from 'lucide-preact';
import { Empty, useBoot } from '../../shared/components';
import { formatBytes, formatDate } from '../../shared/i18n';
import type { FileInfo } from './data';
import { FileIcon, fileUrl } from './files';

export function Recent({ files }: { files: FileInfo[] }): JSX.Element {
  const { t, locale, appUrl } = useBoot();
  if (files.length === 0) {
    return <Empty icon={<FolderOpen aria-hidden="true" />} title={t('home.recent.empty')}><a href={appUrl('drive')}>{t('home.recent.drive')}</a></Empty>;
  }
  return (
    <ul class="recent">
      {files.map((f) => (
        <li key={f.id}>
          <a href={fileUrl(appUrl, f)}>
            <FileIcon file={f} />
            <span class="grow-col">
              <span class="ellipsis name">{f.name}</span>
              <span class="small muted">{t('home.updated', { date: formatDate(f.updatedAt, locale) })}{f.size ? ` · ${formatBytes(f.size, locale)}` : ''}</span>
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}
