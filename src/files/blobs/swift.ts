/**
 * The blob store on OpenStack Swift's native API (./swift-client.ts). Layout, per namespace (instance id):
 *
 *   container <containerPrefix><ns>, created on the first write
 *     <area>/<key>                   a blob (`area`: files or thumbs, as the local engine's folders)
 *     .seg/<area>/<key>/<00000000>   the segments of a blob larger than one segment, behind a Static Large Object
 *                                    manifest at <area>/<key>
 *
 * A body whose announced size fits one segment (5 GiB, Swift's largest object, by default) is streamed in one PUT;
 * a larger one, or one of unknown size, is cut into segments, each streamed in its own PUT, then tied by the
 * manifest. The MD5 is computed while the bytes stream (./meter.ts) and checked against Swift's ETag (of the object,
 * or of each segment); a body that fails a check is cut before its end, so Swift never completes it. Until its
 * object or manifest exists nothing lists it: a crash mid-upload leaves nothing under <area>/, at most segments that
 * `cleanTemporary` removes.
 */
import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { NotFound } from '../../common/errors.js';
import { keyToWrite } from './checks.js';
import { md5Hex, metered } from './meter.js';
import { BLOB_KEY_RE, type BlobInfo, type BlobStore, type ByteRange, type WriteOptions } from './store.js';
import { SwiftClient, swiftError, type SwiftCredentials, type SwiftPut } from './swift-client.js';

const NS_RE = /^[0-9a-f]{32}$/;
/** Swift's largest object (its default max_file_size is 5 GiB + 2 bytes). */
const MAX_SEGMENT = 5 * 1024 * 1024 * 1024;
const LIST_PAGE = 1000;
const SEG = '.seg';
const STALE_MS = 60 * 60 * 1000;
/** Deletions run this many at a time (dropping a namespace). */
const PARALLEL = 8;

export interface SwiftStoreOptions extends SwiftCredentials {
  containerPrefix: string;
  /** `files` for file contents, `thumbs` for thumbnails. */
  area?: string;
  /** Bytes per segment above which a blob is a Static Large Object (5 GiB; tests lower it). */
  segmentBytes?: number;
  /** `cleanTemporary` removes segments untouched for this long (1 hour): younger ones may be another process's upload. */
  staleMs?: number;
}

interface Segment {
  path: string;
  etag: string;
  size_bytes: number;
}

const enc = (s: string) => s.split('/').map(encodeURIComponent).join('/');

export class SwiftBlobStore implements BlobStore {
  private readonly client: SwiftClient;
  private readonly area: string;
  private readonly segmentBytes: number;
  /** Containers known to exist. */
  private readonly made = new Set<string>();

  constructor(private readonly opts: SwiftStoreOptions) {
    this.client = new SwiftClient(opts);
    this.area = opts.area ?? 'files';
    this.segmentBytes = Math.min(opts.segmentBytes ?? MAX_SEGMENT, MAX_SEGMENT);
  }

  private container(ns: string): string {
    if (!NS_RE.test(ns)) throw new Error(`invalid blob namespace ${ns.slice(0, 40)}`);
    return `${this.opts.containerPrefix}${ns}`;
  }

  private object(ns: string, key: string): string {
    if (!BLOB_KEY_RE.test(key)) throw new NotFound(`no blob ${key.slice(0, 40)}`);
    return `/${enc(this.container(ns))}/${this.area}/${key}`;
  }

  private async ensureContainer(container: string): Promise<void> {
    if (this.made.has(container)) return;
    const res = await this.client.call('PUT', `/${enc(container)}`);
    if (res.status >= 300) throw swiftError(res.status, `creating container ${container}`, res.text);
    this.made.add(container);
  }

  async write(ns: string, body: Readable, opts: WriteOptions): Promise<BlobInfo> {
    const container = this.container(ns);
    const meter = metered(body, opts);
    const key = keyToWrite(opts);
    const name = `/${enc(container)}/${this.area}/${key}`;
    const direct = opts.expectedSize !== undefined && opts.expectedSize <= this.segmentBytes;
    const segments: Segment[] = [];
    let put: SwiftPut | null = null;
    let segHash: Hash | null = null;
    let segLen = 0;
    const finishSegment = async () => {
      const res = await put!.end();
      res.body.resume();
      put = null;
      const path = `/${container}/${SEG}/${this.area}/${key}/${String(segments.length).padStart(8, '0')}`;
      const etag = segHash!.digest('hex');
      if (res.status >= 300) throw swiftError(res.status, `PUT ${path}`);
      if (res.headers.etag !== etag) throw new Error(`Swift stored segment ${path} with ETag ${res.headers.etag}, not the MD5 sent (${etag})`);
      segments.push({ path, etag, size_bytes: segLen });
    };
    try {
      await this.ensureContainer(container);
      for await (const chunk of meter as AsyncIterable<Buffer>) {
        let rest = chunk;
        while (rest.length > 0) {
          if (!put) {
            put = direct ? await this.client.put(name, {}) : await this.client.put(`/${enc(container)}/${SEG}/${this.area}/${key}/${String(segments.length).padStart(8, '0')}`, {});
            segHash = createHash('md5');
            segLen = 0;
          }
          const part = direct ? rest : rest.subarray(0, this.segmentBytes - segLen);
          rest = rest.subarray(part.length);
          if (!direct) segHash!.update(part);
          segLen += part.length;
          await put.write(part);
          if (!direct && segLen === this.segmentBytes) await finishSegment();
        }
      }
      const { size, md5 } = meter.result(); // the size and MD5 were checked when the body ended
      if (direct || size === 0) {
        put ??= await this.client.put(name, {});
        const res = await put.end();
        res.body.resume();
        put = null;
        if (res.status >= 300) throw swiftError(res.status, `PUT ${name}`);
        if (res.headers.etag !== md5Hex(md5)) {
          await this.remove(ns, key);
          throw new Error(`Swift stored ${name} with ETag ${res.headers.etag}, not the MD5 of what was sent (${md5Hex(md5)})`);
        }
      } else {
        if (put) await finishSegment();
        const res = await this.client.call('PUT', `${name}?multipart-manifest=put`, { 'Content-Type': 'application/json' }, Buffer.from(JSON.stringify(segments)));
        if (res.status >= 300) throw swiftError(res.status, `PUT the manifest of ${name}`, res.text);
      }
      return { key, size, md5 };
    } catch (err) {
      (put as SwiftPut | null)?.abort();
      meter.destroy();
      await Promise.all(segments.map((s) => this.client.call('DELETE', enc(s.path)).catch(() => undefined)));
      throw err;
    }
  }

  async read(ns: string, key: string, range?: ByteRange): Promise<Readable> {
    const path = this.object(ns, key);
    const res = await this.client.request('GET', path, range ? { Range: `bytes=${range.start}-${range.end}` } : {});
    if (res.status === 404) {
      res.body.resume();
      throw new NotFound(`no blob ${key}`);
    }
    if (res.status === 416 && range) {
      // a range of an empty blob: nothing to read
      res.body.resume();
      return Readable.from([]);
    }
    if (res.status >= 300) {
      res.body.resume();
      throw swiftError(res.status, `GET ${path}`);
    }
    return res.body;
  }

  async size(ns: string, key: string): Promise<number | null> {
    if (!BLOB_KEY_RE.test(key)) return null;
    const res = await this.client.call('HEAD', this.object(ns, key));
    if (res.status === 404) return null;
    if (res.status >= 300) throw swiftError(res.status, `HEAD ${key}`);
    return Number(res.headers['content-length']);
  }

  async remove(ns: string, key: string): Promise<void> {
    const path = this.object(ns, key);
    const head = await this.client.call('HEAD', path);
    if (head.status === 404) return;
    if (head.status >= 300) throw swiftError(head.status, `HEAD ${path}`);
    // a Static Large Object goes with its segments
    const slo = String(head.headers['x-static-large-object']).toLowerCase() === 'true';
    const res = await this.client.call('DELETE', slo ? `${path}?multipart-manifest=delete` : path, { Accept: 'application/json' });
    if (res.status >= 300 && res.status !== 404) throw swiftError(res.status, `DELETE ${path}`, res.text);
  }

  /** Every object of `container` under `prefix`, page after page (none if the container does not exist). */
  private async *list(container: string, prefix: string): AsyncIterable<{ name: string; last_modified: string }> {
    let marker = '';
    for (;;) {
      const q = new URLSearchParams({ format: 'json', prefix, limit: String(LIST_PAGE), marker });
      const res = await this.client.call('GET', `/${enc(container)}?${q.toString()}`, { Accept: 'application/json' });
      if (res.status === 404) return;
      if (res.status >= 300) throw swiftError(res.status, `listing ${container}`, res.text);
      const page = res.status === 204 ? [] : (JSON.parse(res.text) as { name: string; last_modified: string }[]);
      yield* page;
      if (page.length < LIST_PAGE) return;
      marker = page[page.length - 1]!.name;
    }
  }

  async *keys(ns: string): AsyncIterable<string> {
    const prefix = `${this.area}/`;
    for await (const { name } of this.list(this.container(ns), prefix)) {
      const key = name.slice(prefix.length);
      if (BLOB_KEY_RE.test(key)) yield key;
    }
  }

  /**
   * Segments whose manifest does not exist, none written for `staleMs`, are an upload that died (several processes
   * share the store: a younger one may be an upload in progress elsewhere).
   */
  async cleanTemporary(ns: string): Promise<number> {
    const container = this.container(ns);
    const byKey = new Map<string, { names: string[]; last: number }>();
    const prefix = `${SEG}/${this.area}/`;
    for await (const { name, last_modified } of this.list(container, prefix)) {
      const key = name.slice(prefix.length).split('/')[0]!;
      const seen = byKey.get(key) ?? { names: [], last: 0 };
      byKey.set(key, { names: [...seen.names, name], last: Math.max(seen.last, Date.parse(`${last_modified}Z`)) });
    }
    let removed = 0;
    const before = Date.now() - (this.opts.staleMs ?? STALE_MS);
    for (const [key, { names, last }] of byKey) {
      if (last > before || (BLOB_KEY_RE.test(key) && (await this.size(ns, key)) !== null)) continue;
      await this.deleteAll(container, names);
      removed++;
    }
    return removed;
  }

  private async deleteAll(container: string, names: string[]): Promise<void> {
    for (let i = 0; i < names.length; i += PARALLEL) {
      await Promise.all(names.slice(i, i + PARALLEL).map(async (n) => {
        const res = await this.client.call('DELETE', `/${enc(container)}/${enc(n)}`);
        if (res.status >= 300 && res.status !== 404) throw swiftError(res.status, `DELETE ${n}`, res.text);
      }));
    }
  }

  /** Objects are durable once stored: nothing deferred. */
  async sync(): Promise<void> {}

  async drop(ns: string): Promise<void> {
    const container = this.container(ns);
    for (const prefix of [`${this.area}/`, `${SEG}/${this.area}/`]) {
      const names: string[] = [];
      for await (const { name } of this.list(container, prefix)) names.push(name);
      await this.deleteAll(container, names);
    }
    // the container goes once no area has anything left in it (409 while another still has)
    const res = await this.client.call('DELETE', `/${enc(container)}`);
    if (res.status >= 300 && res.status !== 404 && res.status !== 409) throw swiftError(res.status, `DELETE ${container}`, res.text);
    this.made.delete(container);
  }

  async close(): Promise<void> {
    // nothing held open: node:http's agent lets idle sockets go
  }
}
