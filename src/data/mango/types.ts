/**
 * Mango (CouchDB 3 _find) types shared by the /data routes, the stores and the
 * SQL translator. See docs/mango.md in cozy-stack and CouchDB's _find docs.
 */
export type Selector = Record<string, unknown>;
export type SortDirection = 'asc' | 'desc';
/** Normalised sort/index field: one field with its direction. */
export interface SortField {
  field: string;
  dir: SortDirection;
}

/** A validated _find request (limit clamped: default 100, max 1000 as cozy-stack). */
export interface FindRequest {
  selector: Selector;
  fields?: string[];
  sort?: SortField[];
  limit: number;
  skip: number;
  bookmark?: string;
  /** "ddoc" or ["ddoc", "name"], ddoc with or without the "_design/" prefix. */
  use_index?: string | [string, string];
  execution_stats?: boolean;
  conflicts?: boolean;
}

export interface ExecutionStats {
  total_keys_examined: number;
  total_docs_examined: number;
  total_quorum_docs_examined: number;
  results_returned: number;
  execution_time_ms: number;
}

export interface FindResult {
  docs: Array<Record<string, unknown>>;
  bookmark: string;
  warning?: string;
  execution_stats?: ExecutionStats;
}

/** A Mango index as stored: the design doc id, the view name, the definition. */
export interface IndexDef {
  ddoc: string; // "_design/xxx"
  name: string;
  fields: SortField[];
  partial_filter_selector?: Selector;
  /** The SQL index's name in the engine (generated, never user text). */
  sqlName: string;
}

export interface IndexRequest {
  fields: SortField[];
  partial_filter_selector?: Selector;
  ddoc?: string;
  name?: string;
}

export interface IndexResult {
  result: 'created' | 'exists';
  id: string;
  name: string;
}

export interface ExplainResult {
  dbname: string;
  index: { ddoc: string | null; name: string; type: 'json' | 'special'; def: { fields: Array<Record<string, SortDirection>>; partial_filter_selector?: Selector } };
  partitioned: false;
  selector: Selector;
  opts: Record<string, unknown>;
  limit: number;
  skip: number;
  fields: string[] | 'all_fields';
  /** Hearth extension: the SQL plan that SQLite chose. */
  plan?: string[];
}
