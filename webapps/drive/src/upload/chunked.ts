/**
 * A large file sent through a resumable upload session (Hearth's POST/HEAD/PATCH /files/uploads, README): opened once,
 * then CHUNK_BYTES at a time from the offset the server holds (8 MiB: each chunk costs the server a durable write, and
 * 4 MiB chunks took 1.7 times as long as 8 MiB ones in bench/RESULTS-upload-sessions.md; a pause loses at most one). A pause aborts the chunk in flight; the next attempt asks
 * the server its offset (HEAD) and goes on from there. A network failure retries the chunk after a wait (1, 2, 4… s,
 * at most 30 s), at once when the browser says it is back online; after MAX_TRIES failures in a row it gives up.
 */
export const SESSION_FROM_BYTES = 8 * 1024 * 1024;
export const CHUNK_BYTES = 8 * 1024 * 1024;
const MAX_TRIES = 6;

export interface Answer { status: number; text: string; header(name: string): string | null }

/** What a chunked upload needs from the queue: requests it can abort, and where the session and progress go. */
export interface ChunkedTarget {
  file: File;
  name: string;
  dirId: string;
  md5: string;
  /** the session, once opened (kept across pauses) */
  session?: string;
  /** bytes the server holds */
  offset?: number;
  /** a request; null when aborted (pause, cancel); throws TypeError on a network failure */
  request(method: string, url: string, headers: Record<string, string>, body: Blob | null, progress?: (loaded: number) => void): Promise<Answer | null>;
  progressed(loaded: number): void;
}

/** Waits `ms`, or until the browser is back online when it is offline. */
function pauseBeforeRetry(ms: number): Promise<void> {
  return new Promise((done) => {
    const back = () => { clearTimeout(timer); window.removeEventListener('online', back); done(); };
    const timer = setTimeout(back, navigator.onLine ? ms : 24 * 3_600_000);
    window.addEventListener('online', back);
  });
}

/** Sends `t.file`; resolves with the last answer (201 the file; 409, 413, 412… as the cozy upload) or null if aborted. */
export async function sendChunked(origin: string, t: ChunkedTarget): Promise<Answer | null> {
  let tries = 0;
  for (;;) {
    try {
      return await attempt(origin, t, () => { tries = 0; });
    } catch (e) {
      if (!(e instanceof TypeError) || ++tries >= MAX_TRIES) throw e;
      await pauseBeforeRetry(Math.min(30_000, 1000 * 2 ** (tries - 1)));
    }
  }
}

async function attempt(origin: string, t: ChunkedTarget, moved: () => void): Promise<Answer | null> {
  const size = t.file.size;
  if (t.session) {
    const head = await t.request('HEAD', `${origin}/files/uploads/${t.session}`, {}, null);
    if (!head) return null;
    if (head.status === 404) t.session = undefined; // expired or cancelled: a new one
    else if (head.status === 200) t.offset = Number(head.header('upload-offset') ?? 0);
    else return head;
  }
  if (!t.session) {
    const url = `${origin}/files/uploads?DirID=${encodeURIComponent(t.dirId)}&Name=${encodeURIComponent(t.name)}&Size=${size}`;
    const res = await t.request('POST', url, { 'Content-MD5': t.md5, 'Content-Type': t.file.type || 'application/octet-stream' }, null);
    if (!res || res.status !== 201) return res;
    t.session = (JSON.parse(res.text) as { data: { id: string } }).data.id;
    t.offset = 0;
  }
  for (;;) {
    const offset = t.offset ?? 0;
    const end = Math.min(size, offset + CHUNK_BYTES);
    // the last chunk names the file: a "keep both" after a name conflict changes it
    const last = end === size ? `?Name=${encodeURIComponent(t.name)}` : '';
    const res = await t.request('PATCH', `${origin}/files/uploads/${t.session}${last}`, { 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream' },
      t.file.slice(offset, end), (loaded) => t.progressed(offset + loaded));
    if (!res) return null;
    const held = res.header('upload-offset');
    // a 409 with the offset the server holds is a chunk it had already (an answer lost): go on from there
    if (res.status === 204 || (res.status === 409 && held !== null)) {
      t.offset = Number(held ?? end);
      t.progressed(t.offset);
      moved();
      continue;
    }
    return res;
  }
}
