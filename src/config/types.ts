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
    pretty: boolean;
  };
  data: {
    /** Max total attachment bytes per document (default 8 MB). */
    attachmentMaxBytes: number;
    /** How long a longpoll/continuous _changes waits at most (default 60 s). */
    changesTimeoutMs: number;
    /** Group commit: how many ms writes may wait to share one fsync (default 0 = next tick). */
    groupCommitMs: number;
  };
}
