/**
 * What the listing's order needs first and costs on a phone, made by the page's early script (first-page.early.ts)
 * while the bundle is on its way, not after the first paint: the collator (making one loads the locale's collation
 * data, 30 to 70 ms under a phone's CPU) and the remembered sort and view (the page's first read of localStorage, a
 * synchronous round trip to the browser). sort.ts takes them when there, and makes them itself otherwise. Imports
 * nothing, so that the early script stays small.
 */
export const PREPARED_KEY = '__hearthDriveSort';
export const COLLATOR_OPTIONS: Intl.CollatorOptions = { numeric: true, sensitivity: 'base' };
/** The localStorage keys of the sort and the view (sort.ts). */
export const STORED_KEYS = ['drive.sort', 'drive.view'];

export interface Prepared { collator?: Intl.Collator; stored: Record<string, string | null> }

type WithPrepared = { [PREPARED_KEY]?: Prepared };

export function prepareSortEarly(): void {
  const p: Prepared = { stored: {} };
  try {
    for (const key of STORED_KEYS) p.stored[key] = localStorage.getItem(key);
  } catch { /* storage off: sort.ts reads it (and falls back) itself */ }
  p.collator = new Intl.Collator(undefined, COLLATOR_OPTIONS);
  (globalThis as WithPrepared)[PREPARED_KEY] = p;
}

/** The collator the early script made, if any. */
export const earlyCollator = (): Intl.Collator | undefined => (globalThis as WithPrepared)[PREPARED_KEY]?.collator;

/** The value of `key` the early script read, once (later reads go to localStorage: the page may have changed it). */
export function takeEarlyStored(key: string): { value: string | null } | undefined {
  const stored = (globalThis as WithPrepared)[PREPARED_KEY]?.stored;
  if (!stored || !(key in stored)) return undefined;
  const value = stored[key] ?? null;
  delete stored[key];
  return { value };
}
