/**
 * MD5 of large uploads on a thread of its own. MD5 cannot be split (each block depends on the last)
 * and runs at about 800 MB/s on one core; on the event loop it took half of a large upload's time,
 * besides reading the socket and gathering batches. Here the loop hands each full batch (a buffer
 * over a SharedArrayBuffer, so nothing is copied) to the thread while libuv's pool writes the same
 * batch to disk, and the batch goes back to its pool once both are done (./file-sink.ts).
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
  /** Hashes `buf`'s first `len` bytes (`buf` over a SharedArrayBuffer); `done` once `buf` may be reused. */
  update(buf: Buffer, len: number, done: (err: Error | null) => void): void;
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
      h.update(new Uint8Array(m.buf, m.off, m.len));
      parentPort.postMessage({ seq: m.seq });
    } else if (m.op === 'digest') {
      const h = hashes.get(m.id) || createHash('md5');
      hashes.delete(m.id);
      parentPort.postMessage({ seq: m.seq, digest: h.digest('base64') });
    } else {
      hashes.delete(m.id);
    }
  } catch (err) {
    hashes.delete(m.id);
    if (m.seq !== undefined) parentPort.postMessage({ seq: m.seq, error: String(err && err.message || err) });
  }
});
`;

type Reply = (err: Error | null, digest?: string) => void;
type Message = { op: 'update'; id: number; buf: SharedArrayBuffer; off: number; len: number } | { op: 'digest' | 'drop'; id: number };

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
        if (!(buf.buffer instanceof SharedArrayBuffer)) {
          process.nextTick(done, new TypeError('a batch to hash must be over a SharedArrayBuffer'));
          return;
        }
        this.call(worker, { op: 'update', id, buf: buf.buffer, off: buf.byteOffset, len }, done);
      },
      digest: () => new Promise<string>((resolve, reject) => {
        this.call(worker, { op: 'digest', id }, (err, digest) => (err ? reject(err) : resolve(digest!)));
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
      process.nextTick(reply, new Error('the hashing thread stopped during this upload'));
      return;
    }
    const seq = ++this.seq;
    this.calls.set(seq, reply);
    if (this.calls.size === 1) worker.ref();
    worker.postMessage({ ...msg, seq });
  }

  private spawn(): Worker {
    const worker = new Worker(THREAD_CODE, { eval: true, name: 'hearth-md5' });
    worker.unref();
    worker.on('message', (m: { seq: number; digest?: string; error?: string }) => {
      const reply = this.calls.get(m.seq);
      this.calls.delete(m.seq);
      if (this.calls.size === 0) worker.unref();
      reply?.(m.error === undefined ? null : new Error(`hashing failed: ${m.error}`), m.digest);
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
    for (const reply of replies) reply(err);
  }
}
