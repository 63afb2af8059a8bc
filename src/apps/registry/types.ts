/**
 * The app registries' vocabulary (contract §6 of cozy-apps.md, cozy's registry API): the immutable
 * *version* object, the mutable *application* object, one registry's client (HTTP or a local folder)
 * and the ordered set of registries an instance uses (`Registries`, merge.ts), which the installer
 * (`registry://` sources) and the lazy update (§4.6) call.
 */
import type { Readable } from 'node:stream';
import type { AppKind, Manifest } from '../types.js';

export type Channel = 'stable' | 'beta' | 'dev';
export const CHANNELS: readonly Channel[] = ['stable', 'beta', 'dev'];

/**
 * A version of an app (immutable once published). `url` is where its tarball is: `https://…` for an
 * HTTP registry, `file:///…/<slug>/<version>.tar.gz` for a local folder registry (read it with
 * `Registries.openTarball`, which accepts a `file://` URL only inside a configured local registry).
 * `sha256` is the tarball's (hex), `size` its byte count as a string (cozy's shape), `tar_prefix` the
 * folder the tarball's files sit in ("" for none).
 */
export interface RegistryVersion {
  slug: string;
  type: AppKind;
  version: string;
  created_at: string;
  url: string;
  size: string;
  sha256: string;
  tar_prefix: string;
  manifest: Manifest;
  [key: string]: unknown;
}

export interface MaintenanceOptions {
  flag_infra_maintenance?: boolean;
  flag_short_maintenance?: boolean;
  flag_disallow_manual_exec?: boolean;
  messages?: Record<string, { short_message?: string; long_message?: string }>;
}

/** An application of a registry (mutable): its versions by channel and its latest version. */
export interface RegistryApp {
  slug: string;
  type: AppKind;
  editor?: string;
  versions?: Partial<Record<Channel, string[]>>;
  latest_version?: RegistryVersion;
  maintenance_activated?: boolean;
  maintenance_options?: MaintenanceOptions;
  label?: number;
  [key: string]: unknown;
}

/** What a list request asks (the query string of `GET /registry`). */
export interface ListQuery {
  limit?: number;
  /** A field of the application; `-field` reverses (default `slug`). */
  sort?: string;
  /** `filter[type]=konnector` → `{type: 'konnector'}`: equality on a field of the application. */
  filter?: Record<string, string>;
  /** Which channels' version numbers `versions` lists: the channel and the more stable ones (default dev: all). */
  versionsChannel?: Channel;
  /** The channel `latest_version` is taken from (default stable). */
  latestChannelVersion?: Channel;
  cursor?: string;
}

/** A page of applications, as cozy answers it: `meta.next_cursor` absent on the last page. */
export interface AppsPage {
  data: RegistryApp[];
  /** `unreachable` (Hearth's): how many registries could not be read for this page (the list is then partial). */
  meta: { count: number; next_cursor?: string; unreachable?: number };
}

/** An icon or a screenshot, streamed as the registry sends it. */
export interface RegistryAsset {
  body: Readable;
  contentType: string;
  size?: number;
}

/** `icon`, `partnership_icon` or `screenshots/<path>`. */
export type AssetPath = string;

/** One registry. Every lookup answers null for "not here" (a 404); anything else failing throws. */
export interface RegistryClient {
  /** The registry's base: `https://…/` or `file:///dir/`. */
  readonly base: string;
  application(slug: string): Promise<RegistryApp | null>;
  version(slug: string, version: string): Promise<RegistryVersion | null>;
  latest(slug: string, channel: Channel): Promise<RegistryVersion | null>;
  /** One page of this registry's list; `cursor` is this registry's own offset. */
  list(query: Omit<ListQuery, 'cursor'> & { cursor?: number }): Promise<{ data: RegistryApp[]; next: number | null }>;
  /** The applications in maintenance. */
  maintenance(): Promise<RegistryApp[]>;
  /** An icon or a screenshot, of the latest version (`version` null) or of one version. */
  asset(slug: string, version: string | null, path: AssetPath): Promise<RegistryAsset | null>;
  /** The tarball of a version this registry gave. */
  openTarball(version: RegistryVersion): Promise<Readable>;
}

/** The instance's registries, in order (`apps.registries`): what the installer and the /registry routes use. */
export interface Registries {
  /**
   * The version a `registry://` source names: a channel (its latest version) or an exact version.
   * Throws NotFound when no registry has it.
   */
  resolveVersion(slug: string, channelOrVersion: string): Promise<RegistryVersion>;
  /** The latest version of a channel, or null when no registry has the app (the lazy update). */
  latestVersion(slug: string, channel: Channel): Promise<RegistryVersion | null>;
  application(slug: string): Promise<RegistryApp | null>;
  list(query: ListQuery): Promise<AppsPage>;
  maintenance(): Promise<RegistryApp[]>;
  asset(slug: string, version: string | null, path: AssetPath): Promise<RegistryAsset | null>;
  /** The tarball of a version: downloaded from its registry, or read from the local folder it lives in. */
  openTarball(version: RegistryVersion): Promise<Readable>;
}
