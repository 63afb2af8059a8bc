/**
 * What a page of Drive lists: a folder (its first page at once, the next ones in the background), the trash, or the
 * recent files; kept live with cozy-realtime (another client's creations, changes, moves into and out of the folder,
 * deletions).
 */
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { realtimeOf } from '../../shared/realtime';
import { useBoot } from '../../shared/components';
import { DriveApi, fromDoc, type Next, type Page } from './api';
import { kindOf } from './icons';
import { TRASH_ID } from './route';
import { showNow } from './batches';
import type { DriveFile } from './types';

export type Source = { kind: 'folder'; dirId: string } | { kind: 'trash' } | { kind: 'recent' };

export interface Listing {
  dir?: DriveFile;
  items: DriveFile[];
  /** the first page arrived */
  ready: boolean;
  /** every page arrived */
  complete: boolean;
  count?: number;
  error?: unknown;
  reload(): void;
  /** forget these ids now (the server said yes; realtime will agree) */
  drop(ids: string[]): void;
}

const keyOf = (s: Source): string => (s.kind === 'folder' ? `folder:${s.dirId}` : s.kind);

/** Whether a document belongs to what `source` lists. */
function belongs(source: Source, f: DriveFile): boolean {
  if (source.kind === 'folder') return f.dir_id === source.dirId && !f.trashed;
  if (source.kind === 'trash') return f.dir_id === TRASH_ID;
  return false;
}

export function useApi(): DriveApi {
  const { client } = useBoot();
  return useRef(new DriveApi(client)).current;
}

export function useListing(source: Source): Listing {
  const { client } = useBoot();
  const api = useApi();
  const key = keyOf(source);
  const [state, setState] = useState<{ key: string; dir?: DriveFile; map: Map<string, DriveFile>; ready: boolean; complete: boolean; count?: number; error?: unknown }>(
    () => ({ key, map: new Map(), ready: false, complete: false }),
  );
  const [generation, setGeneration] = useState(0);
  const sourceRef = useRef(source);
  sourceRef.current = source;

  // a layout effect: the first page is asked for before the first paint, not after it (an effect runs after the paint)
  useLayoutEffect(() => {
    let stopped = false;
    // a reload keeps what is shown (and the focus in it) until the first page replaces it
    setState((s) => (s.key === key ? s : { key, map: new Map(), ready: false, complete: false }));
    const add = (page: Page, first: boolean) => {
      if (stopped) return;
      setState((s) => {
        const map = new Map(first ? [] : s.map);
        for (const f of page.items) map.set(f._id, f);
        return { key, dir: page.dir ?? s.dir, map, ready: true, complete: page.next === null, count: page.count ?? s.count };
      });
    };
    (async () => {
      try {
        const s = sourceRef.current;
        if (s.kind === 'recent') {
          add({ items: await api.recent(), next: null }, true);
          return;
        }
        // the first page shown at once; the next ones gathered, and shown in batches (showNow)
        let next: Next | null = null;
        let count: number | undefined;
        let first = true;
        let gathered: Page | null = null;
        let shown = 0;
        do {
          // a later page asked for in a task of its own, not in the one that drew the page before it
          if (next) await new Promise((resolve) => { setTimeout(resolve, 0); });
          if (stopped) return;
          const page: Page = s.kind === 'folder' ? await api.folderPage(s.dirId, next) : await api.trashPage(next);
          gathered = gathered ? { ...page, items: [...gathered.items, ...page.items] } : page;
          next = page.next;
          // what is left after these, from the folder's count (the first page carries it)
          count = page.count ?? count;
          const left = count === undefined ? undefined : count - shown - gathered.items.length;
          if (first || !next || showNow(gathered.items.length, shown, left)) {
            add(gathered, first);
            shown += gathered.items.length;
            first = false;
            gathered = null;
          }
        } while (next && !stopped);
      } catch (error) {
        if (!stopped) setState((s) => ({ ...s, key, ready: true, complete: true, error }));
      }
    })();
    return () => { stopped = true; };
  }, [key, generation, api]);

  useEffect(() => {
    if (source.kind === 'recent') return undefined;
    const realtime = realtimeOf(client);
    // the feed's documents carry no links: an image's thumbnails are read once they exist (the update that made them)
    const timers = new Map<string, ReturnType<typeof setTimeout>>();
    const withLinks = (f: DriveFile) => {
      if (kindOf(f) !== 'image' || !belongs(sourceRef.current, f)) return;
      clearTimeout(timers.get(f._id));
      timers.set(f._id, setTimeout(() => {
        timers.delete(f._id);
        api.stat(f._id).then((full) => setState((s) => {
          const known = s.map.get(full._id);
          if (s.key !== key || !known || !full.links) return s;
          return { ...s, map: new Map(s.map).set(full._id, { ...known, links: full.links }) };
        }), () => undefined);
      }, 300));
    };
    const upsert = (raw: unknown) => {
      const f = fromDoc(raw as Record<string, unknown>);
      withLinks(f);
      setState((s) => {
        if (s.key !== key) return s;
        const map = new Map(s.map);
        if (belongs(sourceRef.current, f)) map.set(f._id, { ...map.get(f._id), ...f, links: map.get(f._id)?.links ?? f.links });
        else if (!map.delete(f._id)) return s;
        return { ...s, map };
      });
    };
    const remove = (raw: unknown) => {
      const id = String((raw as { _id?: unknown })._id);
      setState((s) => {
        if (s.key !== key || !s.map.has(id)) return s;
        const map = new Map(s.map);
        map.delete(id);
        return { ...s, map };
      });
    };
    void realtime.subscribe('created', 'io.cozy.files', upsert);
    void realtime.subscribe('updated', 'io.cozy.files', upsert);
    void realtime.subscribe('deleted', 'io.cozy.files', remove);
    return () => {
      for (const t of timers.values()) clearTimeout(t);
      void realtime.unsubscribe('created', 'io.cozy.files', upsert);
      void realtime.unsubscribe('updated', 'io.cozy.files', upsert);
      void realtime.unsubscribe('deleted', 'io.cozy.files', remove);
    };
  }, [key, client, source.kind, api]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  const drop = useCallback((ids: string[]) => setState((s) => {
    const map = new Map(s.map);
    for (const id of ids) map.delete(id);
    return { ...s, map };
  }), []);
  const current = state.key === key;
  // one array per change of the map, so that what is derived from it (the sorted order) is not computed again at each render
  const items = useMemo(() => (current ? [...state.map.values()] : []), [current, state.map]);
  return {
    dir: current ? state.dir : undefined,
    items,
    ready: current && state.ready,
    complete: current && state.complete,
    count: current ? state.count : undefined,
    error: current ? state.error : undefined,
    reload,
    drop,
  };
}
