/**
 * The app code store: the files of each app version, keyed by the sha256 of its package (hex of the tarball's
 * bytes), stored once however many instances install it, and immutable once written. Each instance that uses
 * a version holds a reference `(instance, kind, slug, sha256)`; `gc()` removes the code no reference names
 * (after an uninstall or an update). The local-disk engine is ./local-store.ts; an object-storage engine
 * implements the same interface and runs the same conformance suite (test/helpers/app-code-store-suite.ts).
 */
import type { Readable } from 'node:stream';
import { BadRequest } from '../../common/errors.js';
import { SLUG_RE, type AppKind } from '../types.js';

export const SHA256_RE = /^[0-9a-f]{64}$/;

/** An instance's use of one version of an app's code. */
export interface CodeRef {
  instanceId: string;
  kind: AppKind;
  slug: string;
  sha256: string;
}

/** What an intent has in flight: an install, an update or an uninstall of one app. */
export type IntentOp = 'install' | 'update' | 'uninstall';

/**
 * An operation in flight (the install journal): durable before the operation changes anything (an install's with its
 * code reference, in one commit), dropped once all it wrote is durable. After a crash the next start finishes or
 * undoes exactly these operations (installer.ts recoverInFlight), nothing else.
 */
export interface InstallIntent extends CodeRef {
  id: string;
  /** The instance's domain when the operation began (to find it again without listing every instance). */
  domain: string;
  /** `sha256`: the code installed (install), the code before the update (update), the code removed (uninstall). */
  op: IntentOp;
  /** An update's: what its undo restores (JSON, installer.ts UpdateUndo); null otherwise. */
  undo: string | null;
}

/** An intent's row in either engine's journal table (beside its reference's columns). */
export interface IntentRow { id: string; domain: string; op: IntentOp; undo: string | null }

export const toIntent = (r: IntentRow): Pick<InstallIntent, 'id' | 'domain' | 'op' | 'undo'> => ({ id: r.id, domain: r.domain, op: r.op, undo: r.undo });

/** A stored file: its raw size and content hash, and the sizes of its compressed copies (null: not stored compressed). */
export interface StoredFile {
  size: number;
  /** sha256 (hex) of the raw bytes. */
  hash: string;
  br: number | null;
  gzip: number | null;
}

/** The files of a version, by path in the app (`js/app.js`). */
export type CodeIndex = ReadonlyMap<string, StoredFile>;

/** Adds one file of the code being written (the path is checked: relative, no `..`). */
export type AddFile = (path: string, body: Readable) => Promise<void>;

export type Encoding = 'br' | 'gzip' | null;

export interface AppCodeStore {
  /** A folder on this machine for temporary files (downloads being checked): emptied when the store starts. */
  readonly scratchDir: string;
  /**
   * Records the reference, then, if its code is not stored yet, runs `fill` to write it (one writer per sha256 at
   * a time): the code becomes visible only complete. If `fill` fails, nothing of it stays, nor the reference it added.
   * `written` says whether files were written (false: the version was already stored).
   */
  acquire(ref: CodeRef, fill: (add: AddFile) => Promise<void>): Promise<{ written: boolean }>;
  /**
   * Records an operation in flight, durable when it resolves; an install's with its code reference, in one commit (the
   * reference already there: kept). An update or an uninstall adds no reference. `ordered`: every later write of the
   * operation goes to the same write-ahead log as this store's index (PostgreSQL: the instance's documents and the
   * triggers in the database of the index), where a commit made durable makes every earlier one durable too; this
   * commit then does not wait for its own flush (the operation's first durable write carries it to disk), and a crash
   * before that write loses it only together with all that the operation wrote. The local store ignores it.
   */
  begin(intent: InstallIntent, opts?: { ordered?: boolean }): Promise<void>;
  /** Drops these intents (their installs are durable, or undone). Without a wait for the disk: a crash may bring them back, and finishing them again changes nothing. */
  end(ids: readonly string[]): Promise<void>;
  /** Every intent recorded and not ended (of this process, of others, of stopped ones), oldest first. */
  inFlight(): Promise<InstallIntent[]>;
  /**
   * Each intent has an owner, the process that began it (or took it since): that process holds it while it lives. This
   * takes for this process at most `limit` (default 20) intents whose owner is gone, oldest first, each for one caller
   * only however many processes ask at once; this process then holds them until `end` or `releaseIntents`. The shared
   * store's owners renew a lease (one statement for all of a process's intents, a few times a lease): an owner is gone
   * once its lease ran out. The local store's data directory has one process: an intent this process neither began nor
   * took was left by a stopped one (its lease, trivially: held while this process lives, over for every earlier one).
   */
  claimIntents(limit?: number): Promise<InstallIntent[]>;
  /** Stops holding these intents without ending them (their resolution failed): any later claim, this process's too, takes them. */
  releaseIntents(ids: readonly string[]): Promise<void>;
  /** How often (ms) a running process looks for intents whose owner is gone (claimIntents). */
  readonly intentSweepMs: number;
  /** Whether the code of this package is stored. */
  has(sha256: string): Promise<boolean>;
  /** Drops a reference; true if it existed. The code stays until `gc()`. */
  release(ref: CodeRef): Promise<boolean>;
  /** Drops every reference of an instance (destroyed); returns how many. */
  releaseInstance(instanceId: string): Promise<number>;
  /** The references, of an instance or of a package. */
  refs(filter: { instanceId?: string; sha256?: string }): Promise<CodeRef[]>;
  /** Removes the code that no reference names; returns the sha256 of what went. Removes nothing while `refsStale`. */
  gc(): Promise<string[]>;
  /**
   * True when references added before the last stop may be lost (a data directory of a version that wrote them
   * without their fsync, not closed cleanly): until `restoreRefs` gave back those the app docs name, gc removes nothing.
   */
  readonly refsStale?: boolean;
  /**
   * True when intents may have been lost with the machine (the local store commits an install's intent without its
   * fsync: a power loss after its app doc's durable commit may keep that doc and lose the intent, its reference and its
   * unsynced triggers): the next start then aligns every app of every instance with its doc (install/reconcile.ts),
   * and says so with `intentsRecovered`. Set with `refsStale`.
   */
  readonly intentsLost?: boolean;
  intentsRecovered?(): Promise<void>;
  /** Adds the references the installed apps' docs name (already there: kept), then clears `refsStale`. */
  restoreRefs?(refs: AsyncIterable<CodeRef[]>): Promise<number>;
  /** The files of a stored version, or null when it is not stored. */
  index(sha256: string): Promise<CodeIndex | null>;
  /** A stored file's bytes, raw or as one of its stored compressed copies; null when there is no such file (or copy). */
  read(sha256: string, path: string, encoding: Encoding): Promise<Readable | null>;
  /** A folder on this machine holding the raw files of a stored version (the sandbox runs konnectors and services from it). */
  materialize(sha256: string): Promise<string>;
  close(): Promise<void>;
}

/** Checks a reference's fields (they come from documents and URLs). */
export function checkRef(ref: CodeRef): void {
  if (!SHA256_RE.test(ref.sha256)) throw new BadRequest(`not a sha256: ${JSON.stringify(String(ref.sha256).slice(0, 80))}`);
  if (!SLUG_RE.test(ref.slug)) throw new BadRequest(`not a slug: ${JSON.stringify(String(ref.slug).slice(0, 80))}`);
  if (ref.kind !== 'webapp' && ref.kind !== 'konnector') throw new BadRequest(`not an app kind: ${JSON.stringify(String(ref.kind).slice(0, 40))}`);
  if (typeof ref.instanceId !== 'string' || ref.instanceId === '' || ref.instanceId.length > 128) throw new BadRequest('not an instance id');
}

/** The extensions whose files are also stored compressed (text; images, fonts in woff and archives are compressed already). */
const COMPRESSIBLE = new Set([
  'html', 'htm', 'js', 'mjs', 'cjs', 'css', 'json', 'map', 'svg', 'txt', 'md', 'xml', 'csv', 'webapp', 'konnector',
  'webmanifest', 'ico', 'ttf', 'otf', 'eot', 'wasm', 'yaml', 'yml', 'po', 'ts', 'jsx', 'tsx', 'vue', 'mustache',
]);

export function isCompressible(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') && COMPRESSIBLE.has(path.slice(dot + 1).toLowerCase());
}
