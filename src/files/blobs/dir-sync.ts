/**
 * fsync of the blob folders through descriptors kept open: a small upload renames its blob into one
 * of 256 folders, then must fsync that folder; opening and closing it each time would be two more
 * system calls per file. Once its fsync is done, idle folders beyond `max` are closed, the least
 * recently used first (the default keeps two instances' 256 folders); a folder in use by an fsync is
 * never closed under it. A folder is opened synchronously: a cheap call, cheaper than a trip through the
 * thread pool (see ./small-write.ts).
 */
import { close, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncP = promisify(fsync);
const closeP = promisify(close);

interface Entry {
  fd: number;
  users: number;
}

export class DirSync {
  private readonly open = new Map<string, Entry>();

  constructor(private readonly max = 512) {}

  async sync(dir: string): Promise<void> {
    let e = this.open.get(dir);
    if (e) this.open.delete(dir); // re-inserted below: the map's order is the use order
    else e = { fd: openSync(dir, 'r'), users: 0 }; // a missing folder throws here, and nothing is kept
    this.open.set(dir, e);
    e.users++;
    try {
      await fsyncP(e.fd);
    } finally {
      e.users--;
      // forgotten meanwhile: closed now if no other fsync uses it; else the idle folders beyond `max` go
      if (this.open.get(dir) !== e) await this.closeIfIdle(e);
      else this.evict();
    }
  }

  private evict(): void {
    if (this.open.size <= this.max) return;
    for (const [dir, e] of this.open) {
      if (this.open.size <= this.max) break;
      if (e.users > 0) continue;
      this.open.delete(dir);
      void this.closeIfIdle(e);
    }
  }

  private async closeIfIdle(e: Entry): Promise<void> {
    if (e.users === 0) await closeP(e.fd).catch(() => undefined);
  }

  /** Closes the folders under `prefix` (a namespace being removed), or all of them. */
  async forget(prefix = ''): Promise<void> {
    const gone = [...this.open].filter(([dir]) => dir.startsWith(prefix));
    for (const [dir] of gone) this.open.delete(dir);
    await Promise.all(gone.map(([, e]) => this.closeIfIdle(e)));
  }
}
