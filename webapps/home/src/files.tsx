/** Files as Home shows them: an icon by the file's class or mime type, and the Drive link that opens its preview. */
import type { JSX } from 'preact';
import { File, FileArchive, FileAudio, FileCode, FileImage, FileSpreadsheet, FileText, FileVideo } from 'lucide-preact';
import type { FileInfo } from './data';

export function fileKind(f: Pick<FileInfo, 'mime' | 'cls' | 'name'>): 'image' | 'audio' | 'video' | 'pdf' | 'text' | 'sheet' | 'archive' | 'code' | 'file' {
  const mime = f.mime ?? '';
  const cls = f.cls ?? '';
  if (cls === 'image' || mime.startsWith('image/')) return 'image';
  if (cls === 'audio' || mime.startsWith('audio/')) return 'audio';
  if (cls === 'video' || mime.startsWith('video/')) return 'video';
  if (cls === 'pdf' || mime === 'application/pdf') return 'pdf';
  if (cls === 'spreadsheet' || /sheet|excel|csv/.test(mime)) return 'sheet';
  if (/zip|tar|gzip|7z|rar|compress/.test(mime)) return 'archive';
  if (/javascript|json|xml|x-sh|typescript/.test(mime)) return 'code';
  if (cls === 'text' || mime.startsWith('text/') || /word|document|presentation/.test(mime)) return 'text';
  return 'file';
}

const ICONS = { image: FileImage, audio: FileAudio, video: FileVideo, pdf: FileText, text: FileText, sheet: FileSpreadsheet, archive: FileArchive, code: FileCode, file: File };

export function FileIcon({ file }: { file: FileInfo }): JSX.Element {
  const kind = fileKind(file);
  const Icon = ICONS[kind];
  return <span class={`file-icon kind-${kind}`} aria-hidden="true"><Icon size={20} /></span>;
}

/** Drive at the file's folder, its preview open (`#/folder/<dir>/file/<id>`, the fragment Drive answers). */
export function fileUrl(appUrl: (slug: string, path?: string) => string, f: Pick<FileInfo, 'id' | 'dirId'>): string {
  return appUrl('drive', `#/folder/${encodeURIComponent(f.dirId)}/file/${encodeURIComponent(f.id)}`);
}
