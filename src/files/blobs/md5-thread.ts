/**
 * MD5 of large uploads on a thread of its own. MD5 cannot be split (each block depends on the last)
 * and runs at about 800 MB/s on one core; on the event loop it took half of a large upload's time,
 * besides reading the socket and gathering batches. Here the loop hands each full batch to the
 * thread, which hashes it and hands it back, while libuv's pool writes the batches hashed before
 * (./file-sink.ts).
 *
 * A batch is never copied. On a SharedArrayBuffer (the blob store's pool keeps a few for good,
 * ./buffer-pool.ts) the thread reads it in place and only answers; the caller leaves it alone
 * meanwhile. Otherwise its ArrayBuffer is moved (transferred) to the thread and back: V8 does not count
 * SharedArrayBuffers in the memory that triggers a collection, so each one a pool let go would stay
 * allocated until a collection came for other reasons (300 of 4 MiB made 1.3 GB of RSS here), while a
 * moved ArrayBuffer is counted like any other.
 *
 * One thread serves every upload of a store: its messages keep each upload's batches in order, and
 * a per-upload id keeps their hashes apart. It starts with the first large upload, does not keep the
 * process alive while idle, and is started again if it ever dies (the uploads it held then fail).
 *
 * The thread's code is a string (`eval`) so that it runs the same from the TypeScript sources (tests)
 * and from the build, with no loader in the thread.
 */
import { Worker } from 'node:worker_threads';

/** The hash of one stream's batches, in the order given. */
export interface BatchHash {
  /**
   * Hashes `buf`'s first `len` bytes. `buf` must own its whole ArrayBuffer (Buffer.allocUnsafeSlow),
   * which goes to the thread: `buf` is empty until `done` gives it back (null if the thread died with
   * it); or its whole SharedArrayBuffer, read in place: `done` gives back `buf` itself, which must not
   * change meanwhile.
   */
  update(buf: Buffer, len: number, done: (err: Error | null, buf: Buffer | null) => void): void;
  /** The MD5 of all the batches, base64; ends this hash. */
  digest(): Promise<string>;
  /** Forgets this hash (the stream failed). */
  drop(): void;
}

export interface BatchHasher {
  open(): BatchHash;
}

const THREAD_CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') {
      let h = hashes.get(m.id);
      if (!h) hashes.set(m.id, (h = createHash('md5')));
      h.update(new Uint8Array(m.buf, 0, m.len));
      if (m.buf instanceof SharedArrayBuffer) parentPort.postMessage({ seq: m.seq });
      else parentPort.postMessage({ seq: m.seq, buf: m.buf }, [m.buf]);
    } else if (m.op === 'digest') {
      const h = hashes.get(m.id) || createHash('md5');
      hashes.delete(m.id);
      parentPort.postMessage({ seq: m.seq, digest: h.digest('base64') });
    } else {
      hashes.delete(m.id);
    }
  } catch (err) {
    hashes.delete(m.id);
    if (m.seq !== undefined) parentPort.postMessage({ seq: m.seq, buf: m.buf, error: String(err && err.message || err) }, m.buf instanceof ArrayBuffer ? [m.buf] : []);
  }
});
`;

type Reply = (err: Error | null, out: { digest?: string; buf?: ArrayBuffer }) => void;
type Message = { op: 'update'; id: number; buf: ArrayBuffer | SharedArrayBuffer; len: number } | { op: 'digest' | 'drop'; id: number };

export class Md5Thread implements BatchHasher {
  private worker: Worker | null = null;
  private seq = 0;
  private ids = 0;
  /** Replies awaited, by message number (all from the current thread). */
  private readonly calls = new Map<number, Reply>();

  open(): BatchHash {
    const worker = this.worker ?? this.spawn();
    const id = ++this.ids;
    return {
      update: (buf, len, done) => {
        const ab = buf.buffer;
        if (buf.byteOffset !== 0 || ab.byteLength !== buf.length || len > buf.length) {
          process.nextTick(done, new TypeError('a batch to hash must own its whole ArrayBuffer (Buffer.allocUnsafeSlow) or SharedArrayBuffer'), buf);
          return;
        }
        if (ab instanceof SharedArrayBuffer) {
          // read in place: the memory never leaves this thread, so `buf` is the caller's again whatever happened
          this.call(worker, { op: 'update', id, buf: ab, len }, (err) => done(err, buf));
          return;
        }
        this.call(worker, { op: 'update', id, buf: ab, len }, (err, out) => done(err, out.buf ? Buffer.from(out.buf) : null));
      },
      digest: () => new Promise<string>((resolve, reject) => {
        this.call(worker, { op: 'digest', id }, (err, out) => (err ? reject(err) : resolve(out.digest!)));
      }),
      drop: () => {
        if (this.worker === worker) worker.postMessage({ op: 'drop', id } satisfies Message);
      },
    };
  }

  /** Stops the thread; hashes still open fail. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.down(worker, new Error('the hashing thread was stopped'));
    await worker.terminate();
  }

  private call(worker: Worker, msg: Message, reply: Reply): void {
    if (this.worker !== worker) {
      // the thread this hash began on is gone, and its state with it
      process.nextTick(reply, new Error('the hashing thread stopped during this upload'), {});
      return;
    }
    const seq = ++this.seq;
    this.calls.set(seq, reply);
    if (this.calls.size === 1) worker.ref();
    worker.postMessage({ ...msg, seq }, msg.op === 'update' && msg.buf instanceof ArrayBuffer ? [msg.buf] : []);
  }

  private spawn(): Worker {
    const worker = new Worker(THREAD_CODE, { eval: true, name: 'hearth-md5' });
    worker.unref();
    worker.on('message', (m: { seq: number; digest?: string; buf?: ArrayBuffer; error?: string }) => {
      const reply = this.calls.get(m.seq);
      this.calls.delete(m.seq);
      if (this.calls.size === 0) worker.unref();
      reply?.(m.error === undefined ? null : new Error(`hashing failed: ${m.error}`), m);
    });
    worker.on('error', (err) => this.down(worker, err));
    worker.on('exit', (code) => this.down(worker, new Error(`the hashing thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  /** The thread is gone: what waited on it fails, and the next upload starts a new one. */
  private down(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const replies = [...this.calls.values()];
    this.calls.clear();
    for (const reply of replies) reply(err, {});
  }
}
