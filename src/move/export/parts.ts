/**
 * How an export is cut in parts (cozy-stack model/move/cursor.go): the files sorted by id fill parts greedily by size,
 * then the old versions continue the last part; each part after the first starts at a cursor
 * `io.cozy.files/<id>` or `io.cozy.files.versions/<id>`. Part 0 also holds every document (archive.ts).
 */
import { BadRequest } from '../../common/errors.js';
import { FILES_DOCTYPE, VERSIONS_DOCTYPE } from '../layout.js';

export const GIB = 1024 ** 3;

/**
 * cozy-stack's rule: `requested` when at least `min` (1 GiB), else `min × √(usage / min)` when the instance holds more
 * than `min` (4× the data: 2× more parts, 2× larger), else `min`. `min` is an option so that tests can cut small instances.
 */
export function partSize(requested: number | undefined, usage: number, min = GIB): number {
  if (requested !== undefined && requested >= min) return requested;
  if (usage > min) return Math.floor(min * Math.sqrt(usage / min));
  return min;
}

/** Fills parts greedily: feed each file (then each version) in id order; `cursors` are where parts 1, 2… start. */
export class PartSplitter {
  readonly cursors: string[] = [];
  private remaining: number;

  constructor(private readonly size: number) {
    this.remaining = size;
  }

  add(doctype: typeof FILES_DOCTYPE | typeof VERSIONS_DOCTYPE, id: string, bytes: number): void {
    if (bytes > this.remaining && this.remaining !== this.size) {
      this.remaining = this.size;
      this.cursors.push(`${doctype}/${id}`);
    }
    this.remaining -= bytes;
  }
}

export interface Cursor { doctype: typeof FILES_DOCTYPE | typeof VERSIONS_DOCTYPE; id: string }
export interface PartRange { number: number; start: Cursor; end: Cursor | null }

function parseCursor(text: string): Cursor {
  const slash = text.indexOf('/');
  const doctype = text.slice(0, slash);
  if (slash <= 0 || (doctype !== FILES_DOCTYPE && doctype !== VERSIONS_DOCTYPE)) throw new BadRequest('export: cursor is invalid');
  return { doctype, id: text.slice(slash + 1) };
}

/** The part a `?cursor=` names (none: part 0), from the export's own list only: cozy-stack's ErrExportInvalidCursor (400) otherwise. */
export function partOf(cursors: string[], cursor: string | undefined): PartRange {
  const number = cursor === undefined || cursor === '' ? 0 : cursors.indexOf(cursor) + 1;
  if (number === 0 && cursor) throw new BadRequest('export: cursor is invalid');
  const next = cursors[number];
  return { number, start: number === 0 ? { doctype: FILES_DOCTYPE, id: '' } : parseCursor(cursors[number - 1]!), end: next === undefined ? null : parseCursor(next) };
}
