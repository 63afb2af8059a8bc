/** The listing's order (folders first, then by name, date or size) and the view (list or grid), remembered in localStorage. */
import { useState } from 'preact/hooks';
import { COLLATOR_OPTIONS, earlyCollator, takeEarlyStored } from './sort-early';
import type { DriveFile } from './types';

export type SortKey = 'name' | 'date' | 'size';
export interface Sort { key: SortKey; dir: 'asc' | 'desc' }
export type ViewMode = 'list' | 'grid';

/**
 * Names compared as a person reads them (2 before 10, case aside), by the collator the early script made
 * (sort-early.ts), or one made on first use or ahead (`prepareSort`): making one loads the locale's collation data,
 * tens of milliseconds on a phone, which the page's first script should not hold before its first paint.
 */
let collator: Intl.Collator | undefined;
const names = (): Intl.Collator => (collator ??= earlyCollator() ?? new Intl.Collator(undefined, COLLATOR_OPTIONS));

/** Makes the collator in a task of its own, while the listing's first page is on its way (when the early script did not). */
export function prepareSort(): void {
  if (!collator && !earlyCollator()) setTimeout(names, 0);
}

export function compareFiles(sort: Sort): (a: DriveFile, b: DriveFile) => number {
  const sign = sort.dir === 'asc' ? 1 : -1;
  return (a, b) => {
    if (a.type !== b.type) return a.type === 'directory' ? -1 : 1;
    let d = 0;
    if (sort.key === 'date') d = Date.parse(a.updated_at ?? '') - Date.parse(b.updated_at ?? '') || 0;
    else if (sort.key === 'size') d = Number(a.size ?? 0) - Number(b.size ?? 0);
    return sign * (d || names().compare(a.name, b.name));
  };
}

function stored<T>(key: string, valid: (v: unknown) => v is T, fallback: T): T {
  try {
    const early = takeEarlyStored(key);
    const v: unknown = JSON.parse((early ? early.value : localStorage.getItem(key)) ?? 'null');
    return valid(v) ? v : fallback;
  } catch {
    return fallback;
  }
}

function useStored<T>(key: string, valid: (v: unknown) => v is T, fallback: T): [T, (v: T) => void] {
  const [v, setV] = useState<T>(() => stored(key, valid, fallback));
  return [v, (nv: T) => { setV(nv); try { localStorage.setItem(key, JSON.stringify(nv)); } catch { /* private mode: not remembered */ } }];
}

const isSort = (v: unknown): v is Sort => {
  const s = v as Sort | null;
  return !!s && ['name', 'date', 'size'].includes(s.key) && (s.dir === 'asc' || s.dir === 'desc');
};
const isView = (v: unknown): v is ViewMode => v === 'list' || v === 'grid';

export const useSort = (): [Sort, (s: Sort) => void] => useStored('drive.sort', isSort, { key: 'name', dir: 'asc' });
export const useViewMode = (): [ViewMode, (v: ViewMode) => void] => useStored('drive.view', isView, 'list');
