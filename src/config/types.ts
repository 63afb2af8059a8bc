/** The effective settings of a `hearth` process (YAML file < HEARTH_* env < flags). */
export interface HearthConfig {
  /** Development mode: unauthenticated admin calls on loopback, a default instance. */
  dev: boolean;
  /** Where data lives: registry.sqlite, instances/<id>/… (default ./.hearth). */
  dataDir: string;
  server: {
    host: string; // default 127.0.0.1 (loopback, as cozy-stack; set 0.0.0.0 to listen on every interface)
    port: number; // default 8080
    /** Max size of a JSON request body in bytes (default 16 MiB, to carry base64 attachments). */
    bodyLimit: number;
    /**
     * Behind a reverse proxy: trust its X-Forwarded-For/-Proto/-Host (true for any, or a comma-separated list of the
     * proxies' addresses or CIDRs), so that client IPs (rate limits), https (Secure cookies, HSTS) are the real ones.
     * Default false: a client could otherwise forge its IP.
     */
    trustProxy: boolean | string;
    /**
     * Serialize JSON answers with fast-json-stringify from the routes' response schemas (default true); false
     * uses JSON.stringify everywhere (the bench compares both). Validation and the OpenAPI document are the same.
     */
    serializeResponses: boolean;
    /** Validators and serializers from the code `npm run build` compiled (dist/schemas), or (false) all compiled at run time. */
    precompiledSchemas: boolean;
    /** `hearth serve`: one compacting garbage collection once no request began or ended for this long (default 100; 0: never). server/idle-gc.ts. */
    idleGcSeconds: number;
    /** How: V8's incremental marking (default: the event loop held a few ms at a time) or one synchronous full collection. server/idle-gc.ts. */
  };
  admin: {
    host: string; // default 127.0.0.1
    port: number; // default 6060
    /** argon2id hash of the admin passphrase (`hearth config passwd` prints one), or null. */
    passphraseHash: string | null;
    /** The admin passphrase in clear (from HEARTH_ADMIN_PASSPHRASE); hashed at start-up, never logged. */
    passphrase: string | null;
  };
  /** In --dev, the instance created on first start if none exists (default hearth.localhost:8080). */
  devInstance: string;
  log: {
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** Human-readable logs, one line per request (pino-pretty); null (default): in --dev only. */
    pretty: boolean | null;
  };
  files: {
    /** Old versions of a file's content (cozy-stack's fs.versioning). */
    versions: {
      /** How many versions a file keeps at most, the current one included (default 20; 0 keeps none). */
      max: number;
      /** An old content becomes a version only if the previous version is older than this (default 15 min). */
      minDelayMs: number;
    };
    /** Files and folders in the trash for longer than this many days are destroyed by the clean-old-trashed worker (default 30; 0 never). */
    trashRetentionDays: number;
  };
  /** Jobs, triggers and the sandboxed code they run (konnectors, app services). */
  jobs: {
    /** Where konnectors are found until the apps issue installs them: `<dir>/<slug>/manifest.konnector` and its code (default null: none). */
    konnectorsDir: string | null;
    /** Where web apps with services are found: `<dir>/<slug>/manifest.webapp` and the services' code (default null: none). */
    appsDir: string | null;
    /** The heap cap of one sandboxed konnector or service process, in MiB (default 256). */
    sandboxMemoryMb: number;
    /** The bytes of output (stdout + stderr) a sandboxed process may write before it is stopped (default 4 MiB). */
    sandboxOutputBytes: number;
    /**
     * How often each process sweeps the changes of the instances written since, for the @event runs the bus lost
     * (jobs/event-sweep.ts), in ms (default 30 s; 0: once, at start-up).
     */
    eventSweepMs: number;
  };
  data: {
    /** Max total attachment bytes per document (default 8 MB). */
    attachmentMaxBytes: number;
    /** How long a longpoll/continuous _changes waits at most (default 60 s). */
    changesTimeoutMs: number;
    /** Group commit: how many ms writes may wait to share one fsync (default 0 = next tick). */
    groupCommitMs: number;
    /** How many instance databases stay open at most (default 0: sized from the process's open-file limit). */
    maxOpenStores: number;
    /**
     * An instance database unused for this long is closed (default 60), and the thread that closes them stops once it
     * has had nothing to do for as long: an idle farm gives back their memory.
     */
    storeIdleSeconds: number;
  };
  /** Outgoing mail (passphrase reset, two-factor codes, the sendmail worker). */
  mail: {
    /** smtp: a relay; outbox: .eml files in <dataDir>/outbox (dev); auto (default): outbox in --dev, smtp otherwise. */
    mode: 'smtp' | 'outbox' | 'auto';
    host: string; // default localhost
    port: number; // default 25
    /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
    secure: boolean;
    /** Refuse to send unless the server upgrades with STARTTLS (default false). */
    requireTls: boolean;
    user: string | null;
    /** The SMTP password (HEARTH_MAIL_PASSWORD); masked by `hearth config show`. */
    password: string | null;
    /** The default sender, e.g. "Hearth <noreply@example.org>" (default Hearth <noreply@<instance domain>>). */
    from: string | null;
    /** Mails an instance may send per sliding hour (default 200, as cozy-stack's sendmail). */
    rateLimitPerHour: number;
  };
  /** cozy-stack's context values (GET /settings/context, /settings/flags), the same for every instance. */
  settings: {
    /** Where the owner lands after login when the instance sets no `default_redirection` (`<slug>/<route>`, default home/). */
    defaultRedirection: string;
    /** Where the owner lands after onboarding (default home/). */
    onboardedRedirection: string;
    /** The help link apps show (`help_link`), or null (default). */
    helpLink: string | null;
    /** The terms of service page the `tos-updated` warning links to (`links.self`, `data-links`); `{domain}`: the instance's. Null: no link. */
    tosLink: string | null;
    /** Feature flags for every instance, a JSON object (default {}). */
    flags: string;
  };
  /** A move between servers (src/move/transfer). */
  move: {
    /** The move wizard (cozy-stack's `move.url`); null (default): the instance's own, `https://<instance>/move/wizard`. */
    url: string | null;
    /** Days a source instance is kept after its move was finalized (it answers 410 meanwhile), then deleted; 0: never (default 30). */
    retiredRetentionDays: number;
  };
  /** Web apps and konnectors installed in the instances (src/apps). */
  apps: {
    /** App hosts: `nested` (default, `<slug>.<instance>`) or `flat` (`<first label>-<slug>.<rest>`). */
    subdomains: 'nested' | 'flat';
    /** The app registries, in order, comma-separated: `https://…/` (cozy's registry API) or `file:///dir` (a local folder). */
    registries: string;
    /** After a registry failed to answer, it is skipped for this many seconds (default 30), so that an offline Hearth does not wait on it at each request. */
    registryRetrySeconds: number;
    /**
     * The built-in apps' registry folder (default the package's `dist/registry`, which `npm run build` fills): always
     * consulted before `registries`, and its apps are installed on every instance (src/apps/builtin). Empty or null: none.
     */
    builtinRegistry: string | null;
    /** A tarball unpacking to more bytes than this is refused (default 200 MB). */
    maxUnpackedBytes: number;
    /** A tarball with more entries than this is refused (default 5,000). */
    maxEntries: number;
    /** Turns the CSP of app hosts off (default false). */
    cspDisabled: boolean;
    /** Extra CSP sources, a JSON object of space-separated lists by directive: default, script, connect, img, style, font, media, frame, form (default {}). */
    cspAllowlist: string;
    /** Dev only: apps served straight from folders, `slug:/path[,slug:/path…]` (cozy-stack's --appdir), or null. */
    devDirs: string | null;
    /** Apps and konnectors other than the store may install from a registry when they hold the permission (default false). */
    allowInstallViaPermission: boolean;
    /** Updates whose permissions changed apply without the owner's acknowledgement (default false). */
    permissionsSkipVerification: boolean;
  };
  /**
   * Where each kind of state lives (the scale-out issue). The defaults are the embedded engines (SQLite files and the
   * local disk in dataDir, the process's memory); any mix works.
   */
  docs: {
    /** sqlite (default, files in dataDir) or postgres (a schema per instance in the database of `url`). */
    engine: 'sqlite' | 'postgres';
    /** postgres://user:password@host:port/database, for engine postgres (the password is masked by `hearth config show`). */
    url: string | null;
    /** PostgreSQL connections this process keeps at most (default 20). */
    poolSize: number;
    /**
     * Checkouts a PostgreSQL connection serves before it is closed and replaced (0: never). A server process keeps in
     * memory the catalog of every schema it has touched (about 40 KB per instance), so on a farm a connection that lives
     * forever grows to hold every instance's (0.4 GB at 10,000): replacing it bounds that. Default 1,000; when absent
     * (a configuration built in code), the default.
     */
    connectionUses?: number;
  };
  blobs: {
    /** local (default, files in dataDir), swift (OpenStack Swift's own API) or s3 (any S3-compatible store). */
    engine: 'local' | 'swift' | 's3';
    swift: {
      /** The auth URL (v1 tempauth or v3 Keystone), e.g. http://swift:8080/auth/v1.0. */
      authUrl: string | null;
      user: string | null;
      /** The key or password (masked by `hearth config show`). */
      key: string | null;
      /** Containers are named `<prefix><namespace>` (default hearth-). */
      containerPrefix: string;
    };
    s3: {
      /** The endpoint URL, e.g. https://s3.eu-west-3.amazonaws.com or http://127.0.0.1:8080. */
      endpoint: string | null;
      region: string;
      /** The one bucket every key of this server goes in. */
      bucket: string | null;
      accessKeyId: string | null;
      /** Masked by `hearth config show`. */
      secretAccessKey: string | null;
      /** Path-style addressing (http://host/bucket/key), needed by most stores but AWS (default true). */
      forcePathStyle: boolean;
    };
  };
  imports: {
    /** Imports may download from private, loopback and link-local addresses (tests, private networks); off by default (SSRF). */
    allowPrivateUrls: boolean;
  };
  coordination: {
    /** memory (default: one process) or redis (several processes share locks, queues, limits and the bus). */
    engine: 'memory' | 'redis';
    /** redis://[:password@]host:port[/db], for engine redis (the password is masked by `hearth config show`). */
    url: string | null;
    /** Every Redis key and channel of this server starts with this (default hearth:), so that servers can share a Redis. */
    prefix: string;
  };
}
