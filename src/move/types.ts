/**
 * The shapes that export, import and move share (cozy-stack model/move/doc.go, request.go, workers/moves;
 * ../shared/reference/cozy-move.md). Each part lives in its own folder: export/ (the export document, its worker and the
 * MAC routes), import/ (precheck, the import worker, the blocked instance's pages), transfer/ (a move between two servers).
 */

/** `io.cozy.exports`, kept with the server's state (cozy-stack's global database), never in the instance's own data. */
export interface ExportDoc {
  _id: string;
  _rev?: string;
  domain: string;
  parts_size?: number;
  /** Where each part after the first starts: `io.cozy.files/<id>` or `io.cozy.files.versions/<id>`. */
  parts_cursors: string[];
  with_doctypes?: string[];
  state: 'exporting' | 'done' | 'error';
  created_at: string;
  expires_at: string;
  /** Bytes; -1 while exporting. */
  total_size?: number;
  /** Nanoseconds, as cozy-stack writes a Go time.Duration. */
  creation_duration?: number;
  error?: string;
}

/** Where a move sends the export (S's `export` job during a move, §3 step 4): T's address and S's client on T. */
export interface MoveTo {
  url: string;
  token: string;
  client_id: string;
  client_secret: string;
}

/** The `export` job's message (cozy-stack ExportOptions). */
export interface ExportMessage {
  parts_size?: number;
  /** Nanoseconds; capped at and defaulting to 7 days. */
  max_age?: number;
  with_doctypes?: string[];
  /** An export asked through the admin API: no mail, realtime only. */
  admin?: boolean;
  /** Set during a move: when the export is done, the target is told to import it (transfer/). */
  move_to?: MoveTo;
  /** S's own token for T to call finalize/abort on S (move only). */
  token?: string;
}

/** Where an import during a move comes from (T's import job, §3 steps 5–6). */
export interface MoveFrom {
  url: string;
  token: string;
}

/** The `import` job's message (cozy-stack ImportOptions). */
export interface ImportMessage {
  /** `https://<instance>/move/exports/<MAC>`: the export document; its parts at `…/move/exports/data/<MAC>?cursor=`. */
  manifest_url: string;
  vault?: boolean;
  move_from?: MoveFrom;
}

/**
 * What the export and import workers tell the move between servers (transfer/ implements it; absent = no move support):
 * S's export done → T is told to import it (`POST https://T/move/imports`), failed → `POST https://T/move/abort`;
 * T's import done → `POST https://S/move/finalize`, failed → `POST https://S/move/abort`.
 */
export interface MoveHooks {
  exportDone(instance: { id: string; domain: string }, doc: ExportDoc, msg: ExportMessage & { move_to: MoveTo }): Promise<void>;
  exportFailed(instance: { id: string; domain: string }, msg: ExportMessage & { move_to: MoveTo }, error: string): Promise<void>;
  importDone(instance: { id: string; domain: string }, msg: ImportMessage & { move_from: MoveFrom }, outcome: { ok: boolean; error?: string }): Promise<void>;
}
