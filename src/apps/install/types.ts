/**
 * The installer's seams: where app code comes from (the code store and the package sources of
 * src/apps/code, adapted in the composition root), and the options of each operation.
 */
import type { Instance } from '../../instances/types.js';
import type { InstallIntent, IntentOp } from '../code/store.js';
import type { AppDoc, AppKind, Manifest } from '../types.js';

/** A package fetched and stored: its manifest, its version and the sha256 of its tarball (the code's key). */
export interface FetchedPackage {
  manifest: Manifest;
  version: string;
  sha256: string;
  /** The source as it is stored in the doc (a registry source keeps its `registry://` form). */
  source: string;
}

/** The code of installed apps: fetched and referenced per instance/kind/slug, released on uninstall. */
export interface AppCode {
  /** Fetches `source` (refusing a manifest of another kind or slug), stores its code and references it for this app. */
  fetch(instance: Instance, kind: AppKind, slug: string, source: string): Promise<FetchedPackage>;
  /**
   * The same fetch, prepared: `stored` tells whether the code `source` names is stored already (known without a
   * download: a registry version, an http(s) `#sha256`), so that fetching it only adds a reference; `fetch` then
   * fetches it (a registry's answer is asked once for both).
   */
  prepare(instance: Instance, kind: AppKind, slug: string, source: string): Promise<{ stored: boolean; sha256: string | null; fetch(): Promise<FetchedPackage> }>;
  /**
   * Records an operation in flight (durable when it resolves: apps/code/store.ts InstallIntent), an install's with its
   * code reference; returns the intent's id, for `end`. `undo`: an update's, what its undo restores.
   */
  begin(instance: Instance, kind: AppKind, slug: string, sha256: string, op?: IntentOp, undo?: string | null): Promise<string>;
  /**
   * Whether `begin` on this instance resolves at its commit, its flush carried by the operation's next durable write
   * (apps/code/store.ts begin `ordered`): then waiting for it costs a round trip, not a flush.
   */
  ordered(instance: Instance): Promise<boolean>;
  /** Drops intents whose installs are durable, or undone. */
  end(ids: readonly string[]): Promise<void>;
  /** Every intent not ended. */
  inFlight(): Promise<InstallIntent[]>;
  /** Takes intents whose owner is gone (apps/code/store.ts claimIntents), held by this process until `end` or `letGo`. */
  claim(): Promise<InstallIntent[]>;
  /** Stops holding intents without ending them: a later claim takes them again. */
  letGo(ids: readonly string[]): Promise<void>;
  /** How often (ms) a running process claims intents whose owner is gone. */
  readonly sweepMs: number;
  /** The code this app references (sha256), once each. */
  held(instance: Instance, kind: AppKind, slug: string): Promise<string[]>;
  /** Drops this app's reference to the code `sha256`, then removes code no reference names. */
  release(instance: Instance, kind: AppKind, slug: string, sha256: string): Promise<void>;
  /** A folder on disk holding the raw files of the code `sha256` (what the sandbox runs). */
  materialize(sha256: string): Promise<string>;
}

export interface InstallOptions {
  source: string;
  /** The end state is `installed` rather than `ready`. */
  deactivated?: boolean;
  /** Konnectors: replaces the manifest's `parameters` (non-registry sources only). */
  parameters?: unknown;
}

export interface UpdateOptions {
  /** Defaults to the stored source. */
  source?: string;
  /** The owner accepted the new permissions or terms. */
  permissionsAcked?: boolean;
}

/** Called with the doc at each state change of one operation (the SSE progress of the routes, the CLI). */
export type OnState = (doc: AppDoc) => void;

/** The end of one operation: the doc in its final state, or the error that stopped it. */
export interface Outcome {
  doc: AppDoc | null;
  error: Error | null;
}
