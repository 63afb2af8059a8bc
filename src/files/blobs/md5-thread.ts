/**
 * MD5 and disk writes of large uploads on a thread of its own. MD5 cannot be split (each block depends on the last)
 * and runs at about 800 MB/s on one core; on the event loop it took half of a large upload's time, besides reading
 * the socket. Here the loop hands each batch of the body's chunks to the thread, which hashes them and starts their
 * write (libuv's pool writes them while the thread hashes the next batch), then answers once they are written
 * (./file-sink.ts).
 *
 * A batch is never copied: its chunks' ArrayBuffers are moved (transferred) to the thread, which frees them once
 * written (moved again, to a closed port: their memory goes at once, not at the thread's next collection, which let
 * up to 100 MB of them pile up). The event loop thus neither copies the body nor keeps it: before, each 64 KiB chunk
 * of Node's HTTP parser was copied into shared batch buffers (a fifth of the event loop's CPU of a large upload,
 * bench/files.bench.ts) and then left for the event loop's garbage collector. A thread that stops answers nothing
 * more, but its 'exit' comes only once it has stopped, its writes in flight done or cancelled (Node waits for its
 * requests before the thread ends): what waited on it fails only then, so that the caller never closes a descriptor
 * that a write still uses.
 *
 * One thread serves every upload of a store: its messages keep each upload's batches in order, and a per-upload id
 * keeps their hashes apart. It starts with the first large upload, does not keep the process alive while idle, and
 * is started again if it ever dies (the uploads it held then fail).
 *
 * The thread's code is a string (`eval`) so that it runs the same from the TypeScript sources (tests) and from the
 * build, with no loader in the thread.
 */
import { Worker } from 'node:worker_threads';

/** The hash of one stream's batches, in the order given. */
export interface BatchHash {
  /**
   * Hashes `bufs` (after the batches before) and writes them, `len` bytes in all, at `pos` in `fd` (going on after
   * short writes); `done` once they are written. Each buffer must own its whole ArrayBuffer (`owns`), which moves to
   * the thread: the buffers are empty as soon as this returns.
   */
  write(fd: number, bufs: Buffer[], len: number, pos: number, done: (err: Error | null) => void): void;
  /** The MD5 of all the batches, base64; ends this hash. */
  digest(): Promise<string>;
  /** Forgets this hash (the stream failed). */
  drop(): void;
}

export interface BatchHasher {
  open(): BatchHash;
}

/** Whether `buf` is the whole of an ArrayBuffer of its own (not a slice, not shared memory), so that it may be moved. */
export const owns = (buf: Buffer): boolean => buf.byteOffset === 0 && buf.buffer.byteLength === buf.length && buf.buffer instanceof ArrayBuffer;

const THREAD_CODE = `
const { parentPort, MessageChannel } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { write, writev } = require('node:fs');
const hashes = new Map();
// moving the written chunks to a closed port frees their memory at once (the message is dropped); left to this
// thread's collector, up to a hundred megabytes of them stayed allocated during a large upload
const gone = new MessageChannel().port1;
gone.close();
const free = (bufs) => {
  try {
    gone.postMessage(null, bufs.map((b) => b.buffer));
  } catch {
    // left to the collector
  }
};
const reply = (seq, err) => parentPort.postMessage(err ? { seq, error: String(err.message || err), code: err.code } : { seq });
function writeAll(fd, bufs, len, pos, done) {
  writev(fd, bufs, pos, (err, n) => {
    if (err) return done(err);
    if (n === len) return done(null);
    // a short write (a disk filling up): the rest in one buffer, until written or an error (ENOSPC)
    const rest = Buffer.concat(bufs, len).subarray(n);
    const more = (at) => write(fd, rest, at, rest.length - at, pos + n + at, (e, w) => {
      if (e) return done(e);
      if (at + w >= rest.length) return done(null);
      more(at + w);
    });
    more(0);
  });
}
parentPort.on('message', (m) => {
  if (m.op === 'write') {
    let h = hashes.get(m.id);
    try {
      if (!h) hashes.set(m.id, (h = createHash('md5')));
      for (const b of m.bufs) h.update(b);
    } catch (err) {
      hashes.delete(m.id);
      free(m.bufs);
      return reply(m.seq, err);
    }
    writeAll(m.fd, m.bufs, m.len, m.pos, (err) => {
      free(m.bufs);
      reply(m.seq, err);
    });
  } else if (m.op === 'digest') {
    const h = hashes.get(m.id) || createHash('md5');
    hashes.delete(m.id);
    parentPort.postMessage({ seq: m.seq, digest: h.digest('base64') });
  } else {
    hashes.delete(m.id);
  }
});
`;

type Reply = (err: Error | null, out: { digest?: string }) => void;
type Message = { op: 'write'; id: number; fd: number; bufs: Buffer[]; len: number; pos: number } | { op: 'digest' | 'drop'; id: number };
type Answer = { seq: number; digest?: string; error?: string; code?: string };

/** A running thread and the replies awaited from it, by message number. */
interface Thread {
  worker: Worker;
  calls: Map<number, Reply>;
  /** Set by close(): what the uploads it held fail with. */
  stopped?: Error;
}

export class Md5Thread implements BatchHasher {
  private thread: Thread | null = null;
  private seq = 0;
  private ids = 0;

  open(): BatchHash {
    const thread = this.thread ?? this.spawn();
    const id = ++this.ids;
    return {
      write: (fd, bufs, len, pos, done) => {
        if (!bufs.every(owns)) {
          process.nextTick(done, new TypeError('a batch to write must be made of buffers that own their whole ArrayBuffer'));
          return;
        }
        this.call(thread, { op: 'write', id, fd, bufs, len, pos }, (err) => done(err));
      },
      digest: () => new Promise<string>((resolve, reject) => {
        this.call(thread, { op: 'digest', id }, (err, out) => (err ? reject(err) : resolve(out.digest!)));
      }),
      drop: () => {
        if (this.thread === thread) thread.worker.postMessage({ op: 'drop', id } satisfies Message);
      },
    };
  }

  /** Whether a thread is running (for tests). */
  get running(): boolean {
    return this.thread !== null;
  }

  /** Stops the thread, once its writes in flight are done; the hashes still open fail. */
  async close(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    this.thread = null; // the next upload starts a new thread
    thread.stopped = new Error('the hashing thread was stopped');
    await thread.worker.terminate();
    this.down(thread, thread.stopped);
  }

  private call(thread: Thread, msg: Message, reply: Reply): void {
    if (this.thread !== thread) {
      // the thread this hash began on is gone (or going), and its state with it
      process.nextTick(reply, new Error('the hashing thread stopped during this upload'), {});
      return;
    }
    const seq = ++this.seq;
    try {
      thread.worker.postMessage({ ...msg, seq }, msg.op === 'write' ? msg.bufs.map((b) => b.buffer as ArrayBuffer) : []);
    } catch (err) {
      // not sent (a buffer listed twice cannot move): this batch fails, nothing else
      process.nextTick(reply, err as Error, {});
      return;
    }
    thread.calls.set(seq, reply);
    if (thread.calls.size === 1) thread.worker.ref();
  }

  private spawn(): Thread {
    const worker = new Worker(THREAD_CODE, { eval: true, name: 'hearth-md5' });
    const thread: Thread = { worker, calls: new Map() };
    worker.unref();
    worker.on('message', (m: Answer) => {
      const reply = thread.calls.get(m.seq);
      thread.calls.delete(m.seq);
      if (thread.calls.size === 0) worker.unref();
      reply?.(m.error === undefined ? null : Object.assign(new Error(`hashing or writing failed: ${m.error}`), m.code ? { code: m.code } : {}), m);
    });
    worker.on('error', () => undefined); // 'exit' follows, once the thread has stopped
    worker.on('exit', (code) => this.down(thread, thread.stopped ?? new Error(`the hashing thread exited (code ${code})`)));
    this.thread = thread;
    return thread;
  }

  /** The thread has stopped: what waited on it fails, and the next upload starts a new one. */
  private down(thread: Thread, err: Error): void {
    if (this.thread === thread) this.thread = null;
    const replies = [...thread.calls.values()];
    thread.calls.clear();
    for (const reply of replies) reply(err, {});
  }
}
