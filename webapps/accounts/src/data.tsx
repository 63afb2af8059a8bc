/**
 * The app's state: the installed konnectors, their accounts and triggers (loaded once, reloaded after a change), and
 * the runs as they happen — io.cozy.jobs events (states) and io.cozy.jobs.events (the lines a konnector prints) from
 * the realtime, buffered by job so that the lines of a run that started before its launch answered are not lost.
 */
import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { useBoot } from '../../shared/components';
import { realtimeOf } from '../../shared/realtime';
import { ACCOUNTS, getJob, JOB_EVENTS, JOBS, KONNECTORS, listAccounts, listKonnectors, listTriggers, type Account, type Job, type Konnector, type LogLine, type Trigger } from './api';

export interface Live { job: Job; lines: LogLine[] }

interface Data {
  konnectors: Konnector[] | null;
  accounts: Account[];
  triggers: Trigger[];
  error: unknown;
  reload(): Promise<void>;
  /** The runs seen since the page opened, by job id. */
  live: Record<string, Live>;
  /** Follows a job just launched (its state from the realtime, with a slow poll as a safety net). */
  follow(job: Job): void;
  /** Bumped each time a run ends: past runs are read again. */
  ended: number;
}

const DataContext = createContext<Data | null>(null);
export function useData(): Data {
  const d = useContext(DataContext);
  if (!d) throw new Error('useData outside <DataProvider>');
  return d;
}

const finished = (s: string | undefined) => s === 'done' || s === 'errored';
const MAX_LINES = 500;

export function DataProvider({ children }: { children: ComponentChildren }): JSX.Element {
  const { client } = useBoot();
  const [konnectors, setKonnectors] = useState<Konnector[] | null>(null);
  const [accounts, setAccounts] = useState<Account[]>([]);
  const [triggers, setTriggers] = useState<Trigger[]>([]);
  const [error, setError] = useState<unknown>(null);
  const [live, setLive] = useState<Record<string, Live>>({});
  const [ended, setEnded] = useState(0);
  const followed = useRef(new Set<string>());

  const reload = useCallback(async () => {
    try {
      const [k, a, t] = await Promise.all([listKonnectors(client), listAccounts(client), listTriggers(client)]);
      setKonnectors(k);
      setAccounts(a);
      setTriggers(t);
      setError(null);
    } catch (e) {
      setError(e);
    }
  }, [client]);

  const onJob = useCallback((raw: unknown) => {
    const job = raw as Job;
    if (!job?._id) return;
    setLive((l) => {
      const was = l[job._id];
      if (!was && !followed.current.has(job._id)) {
        // not launched from this page: kept only when it belongs to a konnector trigger (another tab, the schedule)
        if ((job as { worker?: string }).worker !== 'konnector') return l;
      }
      return { ...l, [job._id]: { job: { ...was?.job, ...job }, lines: was?.lines ?? [] } };
    });
    if (finished(job.state)) {
      setEnded((n) => n + 1);
      void listTriggers(client).then(setTriggers, () => undefined);
    }
  }, [client]);

  const onLine = useCallback((raw: unknown) => {
    const e = raw as Partial<LogLine> & { _id?: string };
    const id = e.job_id ?? e._id;
    if (!id || typeof e.message !== 'string') return;
    const line: LogLine = { job_id: id, type: String(e.type ?? 'info'), message: e.message };
    setLive((l) => {
      const was = l[id] ?? { job: { _id: id, state: 'running' as const }, lines: [] };
      return { ...l, [id]: { ...was, lines: [...was.lines, line].slice(-MAX_LINES) } };
    });
  }, []);

  useEffect(() => {
    void reload();
    const rt = realtimeOf(client);
    // accounts added, changed or deleted elsewhere (another tab, a konnector updating its own), konnectors installed
    // or removed from the Store: read them again
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAccount = () => {
      clearTimeout(timer);
      timer = setTimeout(() => void reload(), 300);
    };
    const subs: Array<[Parameters<typeof rt.subscribe>[0], string, (doc: unknown) => void]> = [
      ['created', JOBS, onJob], ['updated', JOBS, onJob], ['created', JOB_EVENTS, onLine],
      ['created', ACCOUNTS, onAccount], ['updated', ACCOUNTS, onAccount], ['deleted', ACCOUNTS, onAccount],
      ['created', KONNECTORS, onAccount], ['updated', KONNECTORS, onAccount], ['deleted', KONNECTORS, onAccount],
    ];
    for (const [verb, doctype, handler] of subs) void rt.subscribe(verb, doctype, handler);
    // once the socket is ready (after the first read, and after a time offline): what changed meanwhile came as no event
    const offReady = rt.onReady(onAccount);
    return () => {
      clearTimeout(timer);
      offReady();
      for (const [verb, doctype, handler] of subs) void rt.unsubscribe(verb, doctype, handler);
    };
  }, [client, reload, onJob, onLine]);

  const follow = useCallback((job: Job) => {
    followed.current.add(job._id);
    onJob(job);
    // the realtime says when it ends; a slow poll covers a dropped connection
    const poll = async (): Promise<void> => {
      for (let i = 0; i < 400; i++) {
        await new Promise((r) => setTimeout(r, 3000));
        const now = await getJob(client, job._id).catch(() => null);
        if (now) onJob(now);
        if (finished(now?.state)) return;
      }
    };
    void poll();
  }, [client, onJob]);

  const value = useMemo<Data>(() => ({ konnectors, accounts, triggers, error, reload, live, follow, ended }), [konnectors, accounts, triggers, error, reload, live, follow, ended]);
  return <DataContext.Provider value={value}>{children}</DataContext.Provider>;
}
