/**
 * The apps platform's shared vocabulary: manifests, the installed-app documents, and the two
 * seams the other parts of src/apps plug into (where an app's code is read from, and how an
 * app host maps to an instance). The contract is ../shared/reference/cozy-apps.md.
 *
 * Storage convention: an installed web app is the document `io.cozy.apps/<slug>` of doctype
 * `io.cozy.apps` in its instance's DocStore, a konnector `io.cozy.konnectors/<slug>` of doctype
 * `io.cozy.konnectors`; their permission documents are `io.cozy.apps/<slug>` /
 * `io.cozy.konnectors/<slug>` in `io.cozy.permissions` (PermissionResolver.grant).
 */
import type { Readable } from 'node:stream';

export const APPS_DOCTYPE = 'io.cozy.apps';
export const KONNECTORS_DOCTYPE = 'io.cozy.konnectors';

export type AppKind = 'webapp' | 'konnector';
export type AppState = 'installing' | 'upgrading' | 'installed' | 'ready' | 'errored';

/** The doctype and the permission-doc kind of each app kind. */
export const KIND: Record<AppKind, { doctype: string; permKind: 'app' | 'konnector'; manifest: string; route: '/apps' | '/konnectors' }> = {
  webapp: { doctype: APPS_DOCTYPE, permKind: 'app', manifest: 'manifest.webapp', route: '/apps' },
  konnector: { doctype: KONNECTORS_DOCTYPE, permKind: 'konnector', manifest: 'manifest.konnector', route: '/konnectors' },
};

/** A slug: what an app host's label can carry (the installer refuses anything else, 422). */
export const SLUG_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** One route of a web app's manifest: `{"/admin": {folder, index, public}}`. */
export interface AppRoute {
  folder: string;
  index?: string;
  public?: boolean;
}

/** A service of a web app's manifest (run by the `service` worker). */
export interface AppService {
  type: string;
  file: string;
  trigger?: string;
  debounce?: string;
  trigger_id?: string;
}

export interface AppIntent {
  action: string;
  type: string[];
  href: string;
}

/** A manifest as read from `manifest.webapp` / `manifest.konnector` (unknown fields are kept). */
export interface Manifest {
  slug: string;
  type?: AppKind;
  name?: string;
  name_prefix?: string;
  editor?: string;
  icon?: string;
  version?: string;
  permissions?: Record<string, { type: string; verbs?: string[]; values?: string[]; selector?: string; description?: string }>;
  routes?: Record<string, AppRoute>;
  services?: Record<string, AppService>;
  intents?: AppIntent[];
  locales?: Record<string, { name?: string; [key: string]: unknown }>;
  terms?: { url?: string; version?: string };
  client_url_flag?: string;
  [key: string]: unknown;
}

/** The stored document of an installed app: the whole manifest plus what the installer adds. */
export interface AppDoc extends Manifest {
  _id: string;
  _rev?: string;
  slug: string;
  source: string;
  state: AppState;
  version: string;
  /** sha256 (hex) of the package: the key of its code in the code store. */
  checksum: string;
  available_version?: string;
  error?: string;
  created_at: string;
  updated_at: string;
}

/** A file of an app's code, opened to be served. */
export interface OpenedAppFile {
  body: Readable;
  size: number;
  /** Strong validator (from the content hash), already quoted. */
  etag: string;
  /** `br` or `gzip` when the body is sent compressed as is; null when it is the plain bytes. */
  contentEncoding: 'br' | 'gzip' | null;
}

/**
 * Where the serving side reads an installed app's files (the code store; in dev, a folder).
 * `path` is relative to the app's root, already normalised (no `..`, no leading `/`).
 */
export interface AppFileSource {
  open(app: Pick<AppDoc, 'slug' | 'version' | 'checksum' | 'source'>, kind: AppKind, path: string, acceptEncoding: string | undefined): Promise<OpenedAppFile | null>;
}
