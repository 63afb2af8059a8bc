/**
 * The io.cozy.files documents, as cozy-stack stores them: directories carry their `path`, files
 * their parent (`dir_id`), `name`, `size` (a string), base64 `md5sum`, `mime` and `class`; the
 * blob that holds a file's bytes is named by `internal_vfs_id` (never shown by /files nor WebDAV; /data, read-only on
 * io.cozy.files, serves documents as stored).
 */
import { UnprocessableEntity } from '../common/errors.js';
import type { Doc } from '../data/store.js';

export const FILES_DOCTYPE = 'io.cozy.files';
export const ROOT_DIR_ID = 'io.cozy.files.root-dir';
export const TRASH_DIR_ID = 'io.cozy.files.trash-dir';
export const TRASH_NAME = '.cozy_trash';
export const TRASH_PATH = `/${TRASH_NAME}`;

export type FileType = 'file' | 'directory';

export interface CozyMetadata {
  doctypeVersion: string;
  metadataVersion: number;
  createdAt: string;
  updatedAt: string;
  createdByApp?: string;
  uploadedAt?: string;
  trashedAt?: string;
  [k: string]: string | number | undefined;
}

/** A stored io.cozy.files document (`path` on directories only). */
export interface FileDoc extends Doc {
  _id: string;
  _rev: string;
  type: FileType;
  name: string;
  dir_id: string;
  created_at: string;
  updated_at: string;
  tags: string[];
}

export const isDir = (d: Doc): boolean => d.type === 'directory';

/** cozy-stack's forbidden names and characters, plus a bound: at most 255 bytes of UTF-8. */
export function validateName(raw: unknown): string {
  if (typeof raw !== 'string' || raw === '') throw new UnprocessableEntity('a name is required (Name=…)', 'invalid_name');
  const name = raw.normalize('NFC');
  if (name === '.' || name === '..') throw new UnprocessableEntity(`"${name}" cannot be a file name`, 'invalid_name');
  // eslint-disable-next-line no-control-regex
  if (/[/\u0000\n\r]/.test(name)) throw new UnprocessableEntity('a file name cannot contain "/", a NUL, a new line or a carriage return', 'invalid_name');
  if (!name.isWellFormed()) throw new UnprocessableEntity('the file name is not well-formed unicode', 'invalid_name');
  if (Buffer.byteLength(name) > 255) throw new UnprocessableEntity('the file name is longer than 255 bytes', 'invalid_name');
  return name;
}

/** The class cozy-stack derives from a MIME type (image, audio, video, text, pdf, …, files otherwise). */
export function classOf(mime: string): string {
  const [top = '', sub = ''] = mime.toLowerCase().split(';')[0]!.trim().split('/');
  if (top === 'image' || top === 'audio' || top === 'video' || top === 'text') return top;
  if (sub === 'pdf') return 'pdf';
  if (sub === 'internet-shortcut') return 'shortcut'; // .url files (cozy-stack's class)
  if (/zip|tar|gzip|x-7z|x-rar|bzip/.test(sub)) return 'zip';
  if (/spreadsheet|excel|csv/.test(sub)) return 'spreadsheet';
  if (/presentation|powerpoint/.test(sub)) return 'slide';
  if (/wordprocessing|msword|opendocument\.text|rtf/.test(sub)) return 'text';
  return 'files';
}

/** The parent path of a path (`/a/b` → `/a`; `/a` → `/`). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export const joinPath = (dir: string, name: string): string => (dir === '/' ? `/${name}` : `${dir}/${name}`);

/** A path given by a client (`Path=`): absolute, no `.` or `..` segments, no empty segment. */
export function validatePath(raw: unknown): string {
  if (typeof raw !== 'string' || !raw.startsWith('/')) throw new UnprocessableEntity('the path must be absolute (start with "/")', 'invalid_path');
  if (raw === '/') return raw;
  const parts = raw.replace(/\/+$/, '').split('/').slice(1);
  for (const p of parts) validateName(p);
  return `/${parts.map((p) => p.normalize('NFC')).join('/')}`;
}
