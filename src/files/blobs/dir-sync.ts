/**
 * fsync of the blob folders through descriptors kept open: a small upload renames its blob into one
 * of 256 folders, then must fsync that folder; opening and closing it each time would be two more
 * system calls per file. At most `max` folders stay open (the least recently used idle one is closed
 * for a new one; the default keeps two instances' 256 folders); a folder in use by an fsync is never
 * closed under it. A folder is opened synchronously: a cheap call, cheaper than a trip through the
 * thread pool (see ./small-write.ts).
 */
import { close, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';

const fsyncP = promisify(fsync);
const closeP = promisify(close);

interface Entry {
  fd: Promise<number>;
  users: number;
}

export class DirSync {
  private readonly open = new Map<string, Entry>();

  constructor(private readonly max = 512) {}

  async sync(dir: string): Promise<void> {
    let e = this.open.get(dir);
    if (e) {
      this.open.delete(dir); // re-inserted below: the map's order is the use order
    } else {
      let fd: Promise<number>;
      try {
        fd = Promise.resolve(openSync(dir, 'r'));
      } catch (err) {
        fd = Promise.reject(err as Error);
      }
      e = { fd, users: 0 };
      e.fd.catch(() => this.open.get(dir) === e && this.open.delete(dir));
    }
    this.open.set(dir, e);
    this.evict();
    e.users++;
    try {
      await fsyncP(await e.fd);
    } finally {
      e.users--;
      if (this.open.get(dir) !== e) await this.closeIfIdle(e); // evicted or forgotten meanwhile
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
    if (e.users > 0) return;
    const fd = await e.fd.catch(() => null);
    if (fd !== null) await closeP(fd).catch(() => undefined);
  }

  /** Closes the folders under `prefix` (a namespace being removed), or all of them. */
  async forget(prefix = ''): Promise<void> {
    const gone = [...this.open].filter(([dir]) => dir.startsWith(prefix));
    for (const [dir] of gone) this.open.delete(dir);
    await Promise.all(gone.map(([, e]) => this.closeIfIdle(e)));
  }
}
