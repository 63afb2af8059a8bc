/**
 * Reads a Chromium trace (the events of CDP's Tracing domain) of one page load: the page's main thread, its tasks from
 * the navigation on, each task's time by trace event (self time: script, style, layout, paint, GC…) and by function
 * (the samples of V8's profiler in the trace, each function named with the module esbuild wrote above it in an
 * unminified bundle). For bench/webapps-trace.ts.
 */

export interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  ts: number;
  dur?: number;
  /** the thread's CPU time in the slice (what the machine's load does not stretch, unlike `dur`) */
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { data?: Record<string, unknown> } & Record<string, unknown>;
}

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; parent?: number }
interface Sample { ts: number; node: number; us: number }

const ms = (us: number) => (us / 1000).toFixed(0);

/** The module esbuild named (`// webapps/drive/src/listing.tsx`) above each line of an unminified bundle. */
function moduleLines(text: string): string[] {
  let current = '';
  return text.split('\n').map((line) => {
    const m = /^\/\/ ((?:webapps|node_modules)\/\S+)$/.exec(line);
    if (m) current = m[1]!.replace(/^node_modules\//, '').replace(/^webapps\//, '');
    return current;
  });
}

function top(m: Map<string, number>, n: number): string {
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, n).filter(([, v]) => v >= 1000).map(([k, v]) => `${k} ${ms(v)}`).join(', ');
}
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

/** What a trace event's self time is: the kinds DevTools' Performance panel sums (scripting, rendering, painting). */
const KIND: Record<string, string> = {
  FunctionCall: 'scripting', EvaluateScript: 'scripting', RunMicrotasks: 'scripting', TimerFire: 'scripting', EventDispatch: 'scripting',
  FireAnimationFrame: 'scripting', FireIdleCallback: 'scripting', 'BlinkScheduler_PerformMicrotaskCheckpoint': 'scripting',
  UpdateLayoutTree: 'style and layout', Layout: 'style and layout', RecalculateStyles: 'style and layout', ParseAuthorStyleSheet: 'style and layout',
  Paint: 'paint', PrePaint: 'paint', Layerize: 'paint', Commit: 'paint', UpdateLayer: 'paint', CompositeLayers: 'paint', PaintImage: 'paint',
  ParseHTML: 'parse HTML',
};

/** How many tasks ran (in V8's samples) each of the page's main components: the renders, as a sampling profiler sees them. */
function renders(tasks: TraceEvent[], samples: Sample[], nodes: Map<number, ProfileNode>): string[] {
  const names = ['FilesPage', 'Listing', 'Row2', 'Row', 'App'];
  const counts = new Map<string, number>();
  let si = 0;
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    while (si < samples.length && samples[si]!.ts < task.ts) si++;
    const seen = new Set<string>();
    for (let j = si; j < samples.length && samples[j]!.ts < end; j++) {
      for (let p = nodes.get(samples[j]!.node); p; p = p.parent === undefined ? undefined : nodes.get(p.parent)) {
        if (names.includes(p.callFrame.functionName)) seen.add(p.callFrame.functionName.replace(/2$/, ''));
      }
    }
    for (const n of seen) add(counts, n, 1);
  }
  return [...counts].map(([k, v]) => `${k} in ${v}`);
}

/** One load's totals, in ms of the traced (slowed down) main thread. */
export interface LoadTotals {
  long: number; blocking: number; scripting: number; layout: number; paint: number; busy: number;
  /** the same in the main thread's CPU time (trace events' `tdur`): not stretched by other processes, nor by the slow-down */
  cpu: { busy: number; long: number; scripting: number; layout: number; paint: number };
}

/** `page`: a part of the measured page's URL, which tells its navigation from others in the trace (Drive's `#/folder/`). */
export function analyse(events: TraceEvent[], opts: { minTask: number; page?: string; sources(url: string): string | undefined }): { text: string; totals?: LoadTotals } {
  const nav = events.find((e) => e.name === 'navigationStart' && String(e.args?.data?.documentLoaderURL ?? '').includes(opts.page ?? '#/folder/'))
    ?? events.filter((e) => e.name === 'navigationStart').at(-1);
  if (!nav) return { text: 'no navigationStart in the trace\n' };
  const { pid, tid } = nav;
  const t0 = nav.ts;
  const on = events.filter((e) => e.pid === pid && e.tid === tid && e.ts >= t0);
  const fcp = on.find((e) => e.name === 'firstContentfulPaint');
  const lcps = on.filter((e) => e.name === 'largestContentfulPaint::Candidate');
  const tasks = on.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.dur !== undefined).sort((a, b) => a.ts - b.ts);
  const slices = on.filter((e) => e.ph === 'X' && e.dur !== undefined && e.name !== 'RunTask').sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);

  // self time of each slice (its duration less its direct children's), in wall time and in the thread's CPU time
  const self = new Map<TraceEvent, number>();
  const selfCpu = new Map<TraceEvent, number>();
  const stack: TraceEvent[] = [];
  for (const e of slices) {
    while (stack.length && stack.at(-1)!.ts + stack.at(-1)!.dur! <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) {
      self.set(parent, (self.get(parent) ?? parent.dur!) - e.dur!);
      selfCpu.set(parent, (selfCpu.get(parent) ?? parent.tdur ?? 0) - (e.tdur ?? 0));
    }
    self.set(e, self.get(e) ?? e.dur!);
    selfCpu.set(e, selfCpu.get(e) ?? e.tdur ?? 0);
    stack.push(e);
  }

  // the CPU profile's samples on that thread
  const profiles = new Set(events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id));
  const nodes = new Map<number, ProfileNode>();
  const samples: Sample[] = [];
  let clock = 0;
  for (const e of events) {
    if (e.pid !== pid || !profiles.has(e.id)) continue;
    const data = e.args?.data as { startTime?: number; cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] } | undefined;
    if (e.name === 'Profile') clock = data?.startTime ?? clock;
    if (e.name !== 'ProfileChunk') continue;
    for (const n of data?.cpuProfile?.nodes ?? []) nodes.set(n.id, n);
    const ids = data?.cpuProfile?.samples ?? [];
    ids.forEach((node, i) => { clock += data?.timeDeltas?.[i] ?? 0; samples.push({ ts: clock, node, us: 0 }); });
  }
  samples.sort((a, b) => a.ts - b.ts);
  samples.forEach((s, i) => { s.us = Math.min(10_000, (samples[i + 1]?.ts ?? s.ts) - s.ts); });
  const modules = new Map<string, string[]>();
  const moduleOf = (f: CallFrame) => {
    if (!f.url) return '';
    if (!modules.has(f.url)) { const text = opts.sources(f.url); modules.set(f.url, text ? moduleLines(text) : []); }
    return modules.get(f.url)![f.lineNumber] ?? f.url.split('/').pop() ?? '';
  };
  const labelOf = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'}${n.callFrame.url ? ` [${moduleOf(n.callFrame)}]` : ''}`;

  const out: string[] = [];
  const rel = (ts: number) => ms(ts - t0);
  out.push(`FCP +${fcp ? rel(fcp.ts) : '?'} ms; LCP candidates at ${lcps.map((e) => `+${rel(e.ts)} (${String((e.args?.data as { nodeName?: string } | undefined)?.nodeName ?? e.args?.data?.type ?? '')})`).join(', ')}`);
  let blocking = 0;
  const whole = new Map<string, number>();
  const wholeCpu = new Map<string, number>();
  const wholeFn = new Map<string, number>();
  let si = 0;
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    const byName = new Map<string, number>();
    for (const e of slices) {
      if (e.ts < task.ts) continue;
      if (e.ts >= end) break;
      add(byName, e.name, self.get(e) ?? 0);
      add(whole, e.name, self.get(e) ?? 0);
      add(wholeCpu, e.name, selfCpu.get(e) ?? 0);
    }
    const byFn = new Map<string, number>();
    const byApp = new Map<string, number>();
    while (si < samples.length && samples[si]!.ts < task.ts) si++;
    for (let j = si; j < samples.length && samples[j]!.ts < end; j++) {
      const s = samples[j]!;
      const n = nodes.get(s.node);
      if (!n || n.callFrame.functionName === '(idle)') continue;
      add(byFn, labelOf(n), s.us);
      add(wholeFn, labelOf(n), s.us);
      const seen = new Set<string>();
      for (let p: ProfileNode | undefined = n; p; p = p.parent === undefined ? undefined : nodes.get(p.parent)) {
        const mod = moduleOf(p.callFrame);
        if (!mod.startsWith('drive/') && !mod.startsWith('shared/')) continue;
        const l = labelOf(p);
        if (!seen.has(l)) { seen.add(l); add(byApp, l, s.us); }
      }
    }
    if (fcp && task.ts >= fcp.ts) blocking += Math.max(0, task.dur! - 50_000);
    if (task.dur! < opts.minTask * 1000) continue;
    out.push(`task +${rel(task.ts)} ms, ${ms(task.dur!)} ms: ${top(byName, 6)}`);
    out.push(`    self: ${top(byFn, 8)}`);
    out.push(`    app (inclusive): ${top(byApp, 6)}`);
  }
  const long = tasks.filter((t) => t.dur! >= 50_000);
  out.push(`${tasks.length} tasks, ${long.length} of 50 ms or more (${ms(long.reduce((n, t) => n + t.dur!, 0))} ms); blocking time after FCP (as traced, 4× slow-down): ${ms(blocking)} ms`);
  const kindOf = (name: string) => KIND[name] ?? (/^(v8|V8)\./.test(name) ? 'scripting' : 'other');
  const kinds = new Map<string, number>();
  for (const [name, us] of whole) add(kinds, kindOf(name), us);
  const kindsCpu = new Map<string, number>();
  for (const [name, us] of wholeCpu) add(kindsCpu, kindOf(name), us);
  const longCpu = tasks.filter((t) => (t.tdur ?? 0) >= 50_000 / 4);
  out.push(`main thread's CPU time (not slowed down; 12.5 ms is 50 ms at 4×): ${ms(tasks.reduce((n, t) => n + (t.tdur ?? 0), 0))} ms in all, ${longCpu.length} tasks of 12.5 ms or more (${ms(longCpu.reduce((n, t) => n + t.tdur!, 0))} ms); ${top(kindsCpu, 5)}`);
  out.push(`whole load by kind (self): ${top(kinds, 5)}; renders (tasks whose samples ran the component): ${renders(tasks, samples, nodes).join(', ')}`);
  out.push(`whole load by event (self): ${top(whole, 12)}`);
  out.push(`whole load by function (self): ${top(wholeFn, 15)}`);
  const k = (name: string) => (kinds.get(name) ?? 0) / 1000;
  const c = (name: string) => (kindsCpu.get(name) ?? 0) / 1000;
  const totals = {
    long: long.reduce((n, t) => n + t.dur!, 0) / 1000, blocking: blocking / 1000, scripting: k('scripting'), layout: k('style and layout'), paint: k('paint'), busy: tasks.reduce((n, t) => n + t.dur!, 0) / 1000,
    cpu: { busy: tasks.reduce((n, t) => n + (t.tdur ?? 0), 0) / 1000, long: longCpu.reduce((n, t) => n + t.tdur!, 0) / 1000, scripting: c('scripting'), layout: c('style and layout'), paint: c('paint') },
  };
  return { text: out.join('\n') + '\n', totals };
}
