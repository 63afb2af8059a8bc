/**
 * A file's icon by its kind (cozy's `class`, else its mime type), from lucide, and its thumbnail when the stack made one.
 * The listing's icons are drawn once per page as SVG symbols (`IconSprite`) that each row's icon uses: two elements per
 * icon in a row instead of lucide's svg with its paths and attributes built at each row's first render.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { File, FileArchive, FileAudio, FileCode, FileImage, FileSpreadsheet, FileText, FileVideo, Folder, MoreVertical, Presentation } from 'lucide-preact';
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

const SYMBOLS = { ...ICONS, more: MoreVertical };
export type SpriteName = keyof typeof SYMBOLS;
const symbolId = (name: SpriteName) => `drive-icon-${name}`;

/**
 * The symbols SpriteIcon uses, once in the page (the files page draws it). Each is lucide's icon with no fill of its
 * own, so that a folder's fill (`.ficon-folder`) comes from the icon that uses it. Drawn in a task of its own after
 * the page's first render, while the listing's first page is on its way: not in the task that draws the first rows
 * (whose icons show once it is there; they are decorative, hidden from screen readers).
 */
export function IconSprite(): JSX.Element | null {
  const [drawn, setDrawn] = useState(false);
  useEffect(() => {
    const later = setTimeout(() => setDrawn(true), 0);
    return () => clearTimeout(later);
  }, []);
  if (!drawn) return null;
  return (
    <svg class="icon-sprite" aria-hidden="true" focusable="false">
      {(Object.keys(SYMBOLS) as SpriteName[]).map((name) => {
        const Icon = SYMBOLS[name];
        return <symbol key={name} id={symbolId(name)} viewBox="0 0 24 24"><Icon fill={undefined} /></symbol>;
      })}
    </svg>
  );
}

/** One of IconSprite's symbols at `size` pixels, hidden from screen readers; its colour and fill are the CSS's of `cls`. */
export function SpriteIcon({ name, size, cls }: { name: SpriteName; size: number; cls?: string }): JSX.Element {
  return (
    <svg class={cls} width={size} height={size} fill="none" aria-hidden="true" focusable="false">
      <use href={`#${symbolId(name)}`} />
    </svg>
  );
}

export function FileIcon({ file, size = 22 }: { file: DriveFile; size?: number }): JSX.Element {
  const kind = kindOf(file);
  return <SpriteIcon name={kind} size={size} cls={`ficon ficon-${kind}`} />;
}

export function Thumb({ file, stackOrigin }: { file: DriveFile; stackOrigin: string }): JSX.Element {
  const src = file.links?.small ?? file.links?.tiny;
  if (src && kindOf(file) === 'image') return <img class="thumb" src={`${stackOrigin}${src}`} alt="" loading="lazy" decoding="async" />;
  return <span class="thumb thumb-icon"><FileIcon file={file} size={40} /></span>;
}
