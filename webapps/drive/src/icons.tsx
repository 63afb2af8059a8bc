/** A file's icon by its kind (cozy's `class`, else its mime type), from lucide, and its thumbnail when the stack made one. */
import type { JSX } from 'preact';
import { File, FileArchive, FileAudio, FileCode, FileImage, FileSpreadsheet, FileText, FileVideo, Folder, Presentation } from 'lucide-preact';
import type { DriveFile } from './types';

export type Kind = 'folder' | 'image' | 'audio' | 'video' | 'pdf' | 'text' | 'code' | 'sheet' | 'slide' | 'zip' | 'file';

export function kindOf(f: DriveFile): Kind {
  if (f.type === 'directory') return 'folder';
  const mime = f.mime ?? '';
  const cls = f.class ?? '';
  if (cls === 'image' || mime.startsWith('image/')) return 'image';
  if (cls === 'audio' || mime.startsWith('audio/')) return 'audio';
  if (cls === 'video' || mime.startsWith('video/')) return 'video';
  if (cls === 'pdf' || mime === 'application/pdf') return 'pdf';
  if (cls === 'spreadsheet' || /sheet|excel|csv/.test(mime)) return 'sheet';
  if (cls === 'slide' || /presentation|powerpoint/.test(mime)) return 'slide';
  if (/zip|tar|compressed|x-7z|rar/.test(mime)) return 'zip';
  if (/json|javascript|xml|x-sh|typescript/.test(mime)) return 'code';
  if (cls === 'text' || mime.startsWith('text/')) return 'text';
  return 'file';
}

/** What the Preview can show. */
export const previewable = (f: DriveFile): boolean => ['image', 'audio', 'video', 'pdf', 'text', 'code'].includes(kindOf(f));

const ICONS = { folder: Folder, image: FileImage, audio: FileAudio, video: FileVideo, pdf: FileText, text: FileText, code: FileCode, sheet: FileSpreadsheet, slide: Presentation, zip: FileArchive, file: File };

export function FileIcon({ file, size = 22 }: { file: DriveFile; size?: number }): JSX.Element {
  const kind = kindOf(file);
  const Icon = ICONS[kind];
  return <Icon size={size} aria-hidden="true" class={`ficon ficon-${kind}`} />;
}

export function Thumb({ file, stackOrigin }: { file: DriveFile; stackOrigin: string }): JSX.Element {
  const src = file.links?.small ?? file.links?.tiny;
  if (src && kindOf(file) === 'image') return <img class="thumb" src={`${stackOrigin}${src}`} alt="" loading="lazy" decoding="async" />;
  return <span class="thumb thumb-icon"><FileIcon file={file} size={40} /></span>;
}
