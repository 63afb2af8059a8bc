/**
 * `npm run bench`, fourth part: realtime fan-out. N WebSockets (10,000) are opened from THIS process (the client)
 * to one instance of a server running in its own child process, each authenticated and subscribed to
 * io.cozy.contacts with cozy-stack's protocol (`/realtime/`, subprotocol io.cozy.websocket, AUTH then SUBSCRIBE).
 * Then documents are written one at a time (POST /data/io.cozy.contacts/), spaced; for each write and each socket
 * the latency is from just before the write request is sent to the arrival of its CREATED event on that socket.
 * Reported: p50/p99/max over all deliveries, deliveries received against expected, the server's RSS
 * (/proc/<pid>/status VmRSS) before the sockets connect and while they are connected, its CPU per write.
 *
 * Side by side in the same run, same client: Hearth (bench/hearth-server.ts, the test configuration) and the
 * reference, a bare `ws` WebSocketServer (bench/ws-server.ts) that encodes the same-shaped event once and sends it
 * to the same number of sockets: the floor cost of the fan-out on this machine. Ratios are Hearth / reference.
 * The client does as little as possible per message (a timestamp and a reference to the buffer; the events are
 * parsed and checked after each write's round), so that its own cost weighs as little as possible on the numbers.
 *
 * Environment knobs (all optional; any of them but BENCH_QUICK unset means no RESULTS-realtime.md):
 *   BENCH_QUICK=1              1,000 sockets, 5 writes; no RESULTS-realtime.md
 *   BENCH_RT_SOCKETS=10000     sockets per server
 *   BENCH_RT_WRITES=20         measured writes per server (after 2 warm-up writes)
 *   BENCH_RT_SERVERS=ws,hearth which servers (ws = the bare ws reference)
 *   BENCH_RT_VERBOSE=1         log every write's round as it ends
 *   BENCH_RT_SOURCES=n         spread the client sockets over n loopback source addresses 127.0.0.1…n (default:
 *                              1 up to 20,000 sockets, i.e. the kernel's ephemeral ports towards one server port)
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket } from 'ws';
import {
  BENCH_DIR, cpuSnap, cpuUse, fmtMs, fmtRatio, gitInfo, killChildren, log, machine, percentile, pkgVersion, resetPeakRss, ROOT, rssMB, send,
  setMeasured, startChild, startWatchdog, stopChild, targetTable, type Child, type Target,
} from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const SOCKETS = Number(process.env.BENCH_RT_SOCKETS ?? (QUICK ? 1_000 : 10_000));
const WRITES = Number(process.env.BENCH_RT_WRITES ?? (QUICK ? 5 : 20));
const ALL_SERVERS = ['ws', 'hearth'] as const;
type ServerName = (typeof ALL_SERVERS)[number];
const SERVERS = (process.env.BENCH_RT_SERVERS ?? ALL_SERVERS.join(',')).split(',').map((s) => s.trim()) as ServerName[];
const SOURCES = Number(process.env.BENCH_RT_SOURCES ?? Math.ceil(SOCKETS / 20_000));
const VERBOSE = process.env.BENCH_RT_VERBOSE === '1';
const FULL_RUN = !QUICK && SOCKETS === 10_000 && WRITES === 20 && SERVERS.length === 2 && !process.env.BENCH_RT_SOURCES;

/**
 * A full garbage collection of THIS process (the client), run in the pause after each write: otherwise the client's
 * heap (10,000 sockets' objects) is marked during some fan-outs, and its marking threads take CPU from the server
 * on this 2-core machine (a trial: a write every ~10 went from ~85 ms to ~155 ms to reach every socket).
 */
setFlagsFromString('--expose-gc');
const clientGc = runInNewContext('gc') as () => void;

const DOCTYPE = 'io.cozy.contacts';
const PROTOCOL = 'io.cozy.websocket';
const WARMUP_WRITES = 2;
/** The measured writes are split over this many passes (sockets opened, writes, sockets closed), the servers taking turns. */
const PASSES = QUICK ? 1 : 2;
/** Sockets opened at once (each batch waits for its handshakes), to avoid SYN floods on the listen backlog. */
const BATCH = 200;
/** A write's round ends when every socket got its event, or after this long. */
const ROUND_TIMEOUT_MS = 10_000;
/** Pause between two writes (after the previous one's round ended). */
const SPACING_MS = 250;
const WATCHDOG_MS = 12 * 60_000;
const LABEL: Record<ServerName, string> = { ws: 'bare ws', hearth: 'Hearth' };

// ---------------------------------------------------------------------------------------------
// Servers

interface Server {
  name: ServerName;
  child: Child;
  pid: number;
  port: number;
  /** The Host header (Hearth: the instance's domain). */
  host: string;
  token: string;
  agent: Agent;
}

async function startServer(name: ServerName): Promise<Server> {
  const child = name === 'hearth' ? await startChild('hearth', 'hearth-server.ts', []) : await startChild('ws', 'ws-server.ts', []);
  const port = Number(child.line.port);
  if (name === 'hearth' && typeof child.line.contactsToken !== 'string') throw new Error('bench/hearth-server.ts printed no contactsToken');
  return {
    name, child, pid: child.proc.pid ?? 0, port,
    host: name === 'hearth' ? String(child.line.domain) : `127.0.0.1:${port}`,
    token: String(child.line.contactsToken ?? 'any'),
    agent: new Agent({ keepAlive: true, maxSockets: 1 }),
  };
}

let seq = 0;
/** One contact, ~200 bytes of JSON; `bench_seq` tells its event apart from the other writes'. */
async function write(s: Server): Promise<{ seq: number; t0: number; answeredMs: number }> {
  const n = ++seq;
  const body = Buffer.from(JSON.stringify({
    fullname: `Bench Contact ${n}`, name: { givenName: 'Bench', familyName: `Contact ${n}` },
    email: [{ address: `bench.contact.${n}@example.com`, type: 'home', primary: true }], bench_seq: n,
  }));
  const headers = { host: s.host, authorization: `Bearer ${s.token}`, 'content-type': 'application/json', accept: 'application/json', 'content-length': body.length };
  const t0 = performance.now();
  const res = await send({ port: s.port, method: 'POST', path: `/data/${DOCTYPE}/`, headers, agent: s.agent, body, label: s.name });
  const answeredMs = performance.now() - t0;
  if (res.status !== 201) throw new Error(`${s.name} POST /data/${DOCTYPE}/ -> ${res.status} ${res.body.toString().slice(0, 300)}`);
  return { seq: n, t0, answeredMs };
}

// ---------------------------------------------------------------------------------------------
// The client's sockets

/** What the sockets received during one write's round: one arrival time and message per socket (NaN: none yet). */
class Round {
  readonly t: Float64Array;
  /** The round's first message; a later one byte-identical to it is only counted (nothing kept, so no garbage to collect). */
  first: Buffer | null = null;
  /** The messages that differ from the first, by socket (checked one by one after the round). */
  readonly others = new Map<number, Buffer>();
  firstSocket = -1;
  count = 0;
  /** Messages beyond the first on a socket during this round, and the first of them. */
  extra = 0;
  firstExtra = '';
  private done: () => void = () => undefined;
  readonly complete: Promise<void>;
  constructor(readonly expected: number, size: number) {
    this.t = new Float64Array(size).fill(NaN);
    this.complete = new Promise((r) => (this.done = r));
    if (expected <= 0) this.done();
  }
  record(i: number, at: number, data: Buffer): void {
    if (!Number.isNaN(this.t[i]!)) {
      if (this.extra++ === 0) this.firstExtra = data.toString('utf8').slice(0, 300);
      return;
    }
    this.t[i] = at;
    if (this.first === null) {
      this.first = data;
      this.firstSocket = i;
    } else if (!data.equals(this.first)) this.others.set(i, data);
    if (++this.count >= this.expected) this.done();
  }
}

interface Clients {
  sockets: (WebSocket | null)[];
  open: number;
  failed: number;
  firstFailure: string;
  connectSeconds: number;
  /** Messages that arrived outside any round (e.g. an error answer to SUBSCRIBE), and the first of them. */
  stray: number;
  firstStray: string;
  /** Sockets the server closed while the run was on. */
  closed: number;
  round: Round | null;
}

function openOne(s: Server, c: Clients, i: number): Promise<void> {
  return new Promise((resolve) => {
    const localAddress = SOURCES > 1 ? `127.0.0.${1 + (i % SOURCES)}` : undefined;
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/realtime/`, PROTOCOL, {
      headers: { host: s.host }, perMessageDeflate: false, skipUTF8Validation: true, handshakeTimeout: 30_000, ...(localAddress ? { localAddress } : {}),
    });
    let opened = false;
    const fail = (why: string) => {
      if (opened) return;
      opened = true; // settled
      c.failed++;
      if (!c.firstFailure) c.firstFailure = why.slice(0, 200);
      ws.terminate();
      resolve();
    };
    ws.on('error', (e) => fail(String(e)));
    ws.on('unexpected-response', (_req, res) => fail(`HTTP ${res.statusCode} on the upgrade`));
    ws.on('close', (code, reason) => {
      if (!opened) return fail(`closed (${code} ${String(reason)}) before it opened`);
      if (c.sockets[i] === ws) {
        c.sockets[i] = null;
        c.open--;
        c.closed++;
        if (!c.firstFailure) c.firstFailure = `a socket was closed by the server: ${code} ${String(reason)}`.slice(0, 200);
      }
    });
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      if (c.round) c.round.record(i, at, data);
      else if (c.stray++ === 0) c.firstStray = data.toString('utf8').slice(0, 300);
    });
    ws.on('open', () => {
      if (ws.protocol !== PROTOCOL) return fail(`the server chose the subprotocol "${ws.protocol}"`);
      opened = true;
      c.sockets[i] = ws;
      c.open++;
      ws.send(JSON.stringify({ method: 'AUTH', payload: s.token }));
      ws.send(JSON.stringify({ method: 'SUBSCRIBE', payload: { type: DOCTYPE } }));
      resolve();
    });
  });
}

async function connectAll(s: Server): Promise<Clients> {
  const c: Clients = { sockets: new Array<WebSocket | null>(SOCKETS).fill(null), open: 0, failed: 0, firstFailure: '', connectSeconds: 0, stray: 0, firstStray: '', closed: 0, round: null };
  const t0 = performance.now();
  for (let b = 0; b < SOCKETS; b += BATCH) {
    const batch: Promise<void>[] = [];
    for (let i = b; i < Math.min(SOCKETS, b + BATCH); i++) batch.push(openOne(s, c, i));
    await Promise.all(batch);
  }
  c.connectSeconds = (performance.now() - t0) / 1000;
  return c;
}

async function closeAll(c: Clients): Promise<void> {
  c.round = null;
  for (const ws of c.sockets) {
    if (!ws) continue;
    ws.removeAllListeners('close');
    ws.on('error', () => undefined);
    ws.terminate();
  }
  c.sockets.fill(null);
  await sleep(500);
}

interface RoundResult {
  seq: number;
  answeredMs: number;
  /** Latencies of the valid deliveries (ms from just before the write was sent). */
  lat: number[];
  expected: number;
  bad: number;
  firstBad: string;
  extra: number;
  firstExtra: string;
  bytes: number;
}

/** Whether `data` is the CREATED event of the contact written with `bench_seq` = `seq`. */
function isEventOf(data: Buffer, seq: number): boolean {
  try {
    const m = JSON.parse(data.toString('utf8')) as { event?: string; payload?: { type?: string; id?: string; doc?: { bench_seq?: number; _id?: string } } };
    return m.event === 'CREATED' && m.payload?.type === DOCTYPE && m.payload.doc?.bench_seq === seq && typeof m.payload.id === 'string' && m.payload.doc._id === m.payload.id;
  } catch {
    return false;
  }
}

/** One write and its round: waits for every open socket's event (or ROUND_TIMEOUT_MS), then checks what arrived. */
async function writeRound(s: Server, c: Clients): Promise<RoundResult> {
  const round = new Round(c.open, SOCKETS);
  c.round = round;
  const w = await write(s);
  await Promise.race([round.complete, sleep(ROUND_TIMEOUT_MS)]);
  // the client's own garbage collected now, then the pause (its sweeper threads finish), not during the next fan-out
  clientGc();
  await sleep(SPACING_MS); // late duplicates land in this round's `extra`
  c.round = null;
  const r: RoundResult = { seq: w.seq, answeredMs: w.answeredMs, lat: [], expected: round.expected, bad: 0, firstBad: '', extra: round.extra, firstExtra: round.firstExtra, bytes: 0 };
  // the first message is checked, the ones identical to it share its verdict, the others are checked one by one
  const firstOk = round.first !== null && isEventOf(round.first, w.seq);
  const bad = (data: Buffer) => {
    r.bad++;
    if (!r.firstBad) r.firstBad = data.toString('utf8').slice(0, 300);
  };
  for (let i = 0; i < SOCKETS; i++) {
    const at = round.t[i]!;
    if (Number.isNaN(at)) continue;
    const other = round.others.get(i);
    if (other ? isEventOf(other, w.seq) : firstOk) {
      r.lat.push(at - w.t0);
      r.bytes = (other ?? round.first!).length;
    } else bad(other ?? round.first!);
  }
  if (VERBOSE) log(`${s.name} write ${w.seq}: ${r.lat.length}/${r.expected} in ${fmtMs(r.lat.length ? Math.max(...r.lat) : NaN)} ms, answered in ${fmtMs(w.answeredMs)} ms`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// One server's run

interface Result {
  name: ServerName;
  /** Sockets open after the connection phase, the lowest over the passes. */
  connected: number;
  failed: number;
  firstFailure: string;
  /** Seconds to open and subscribe every socket, the slowest pass. */
  connectSeconds: number;
  rssBefore: number;
  /** RSS with the sockets connected (before the writes), the highest over the passes. */
  rssConnected: number;
  /** RSS once the last pass's sockets are closed (a leak shows here). */
  rssAfterClose: number;
  /** VmHWM over the writes (null where clear_refs is not allowed). */
  peakDuringWrites: number | null;
  lat: Float64Array;
  /** p99 of each pass, to show how much it moves. */
  passP99: number[];
  /** Per write: the time until its last delivery (ms), sorted. */
  lastPerWrite: Float64Array;
  delivered: number;
  expected: number;
  bad: number;
  firstBad: string;
  extra: number;
  firstExtra: string;
  stray: number;
  firstStray: string;
  closed: number;
  answeredP50: number;
  serverCpuMsPerWrite: number;
  clientCpuMsPerWrite: number;
  /** The CPU that processes outside the benchmark used during the writes, in % of the machine. */
  foreignPct: number;
  bytes: number;
}

function emptyResult(name: ServerName): Result {
  return {
    name, connected: SOCKETS, failed: 0, firstFailure: '', connectSeconds: 0, rssBefore: NaN, rssConnected: 0, rssAfterClose: NaN,
    peakDuringWrites: null, lat: new Float64Array(0), passP99: [], lastPerWrite: new Float64Array(0), delivered: 0, expected: 0, bad: 0,
    firstBad: '', extra: 0, firstExtra: '', stray: 0, firstStray: '', closed: 0, answeredP50: NaN, serverCpuMsPerWrite: NaN, clientCpuMsPerWrite: NaN,
    foreignPct: NaN, bytes: NaN,
  };
}

/** Every pass's rounds and CPU, per server, merged into its Result at the end. */
const roundsOf = new Map<ServerName, { rounds: RoundResult[]; serverUs: number; clientUs: number; foreign: number[] }>();

/** One pass on one server: opens every socket, writes `writes` documents (after the warm-up ones), closes them. */
async function runPass(s: Server, r: Result, pass: number, writes: number): Promise<void> {
  const tag = `${LABEL[s.name]} pass ${pass}`;
  log(`${tag}: opening ${SOCKETS} sockets, ${BATCH} at a time`);
  const c = await connectAll(s);
  log(`${tag}: ${c.open} open, ${c.failed} failed${c.firstFailure ? ` (first: ${c.firstFailure})` : ''} in ${c.connectSeconds.toFixed(1)} s`);
  r.connected = Math.min(r.connected, c.open);
  r.failed += c.failed;
  r.firstFailure ||= c.firstFailure;
  r.connectSeconds = Math.max(r.connectSeconds, c.connectSeconds);
  await sleep(1_500);
  const rssConnected = rssMB(s.pid).rss;
  r.rssConnected = Math.max(r.rssConnected, rssConnected);
  log(`${tag}: RSS ${rssConnected.toFixed(0)} MB with ${c.open} sockets connected`);
  for (let i = 0; i < WARMUP_WRITES; i++) {
    const w = await writeRound(s, c);
    log(`${tag}: warm-up write ${i + 1}: ${w.lat.length}/${w.expected} delivered${w.bad ? `, ${w.bad} bad (first: ${w.firstBad})` : ''}`);
  }
  const peakReset = resetPeakRss(s.pid);
  setMeasured(s.pid);
  const cpu0 = cpuSnap();
  const rounds: RoundResult[] = [];
  for (let i = 0; i < writes; i++) rounds.push(await writeRound(s, c));
  const cpu = cpuUse(cpu0, cpuSnap(), writes);
  setMeasured(null);
  const mem = rssMB(s.pid);
  if (peakReset) r.peakDuringWrites = Math.max(r.peakDuringWrites ?? 0, mem.hwm);
  const acc = roundsOf.get(s.name) ?? { rounds: [], serverUs: 0, clientUs: 0, foreign: [] };
  roundsOf.set(s.name, acc);
  acc.rounds.push(...rounds);
  acc.serverUs += cpu.serverUsPerOp * writes;
  acc.clientUs += cpu.clientUsPerOp * writes;
  acc.foreign.push(cpu.foreignPct);
  const lat = Float64Array.from(rounds.flatMap((x) => x.lat)).sort();
  r.passP99.push(percentile(lat, 0.99));
  r.stray += c.stray;
  r.firstStray ||= c.firstStray;
  r.closed += c.closed;
  log(`${tag}: time to the last socket per write: ${rounds.map((x) => (x.lat.length ? fmtMs(Math.max(...x.lat)) : '–')).join(' ')} ms; `
    + `p50 ${fmtMs(percentile(lat, 0.5))} ms, p99 ${fmtMs(percentile(lat, 0.99))} ms; other processes used ${cpu.foreignPct.toFixed(0)}% of the CPU meanwhile`);
  await closeAll(c);
  await sleep(1_000);
  r.rssAfterClose = rssMB(s.pid).rss;
}

function finish(r: Result): void {
  const acc = roundsOf.get(r.name);
  if (!acc) return;
  const all = acc.rounds.flatMap((x) => x.lat);
  r.lat = Float64Array.from(all).sort();
  r.lastPerWrite = Float64Array.from(acc.rounds.map((x) => (x.lat.length ? Math.max(...x.lat) : NaN))).sort();
  r.delivered = all.length;
  r.expected = SOCKETS * acc.rounds.length;
  r.bad = acc.rounds.reduce((a, x) => a + x.bad, 0);
  r.firstBad = acc.rounds.find((x) => x.firstBad)?.firstBad ?? '';
  r.extra = acc.rounds.reduce((a, x) => a + x.extra, 0);
  r.firstExtra = acc.rounds.find((x) => x.firstExtra)?.firstExtra ?? '';
  r.answeredP50 = percentile(Float64Array.from(acc.rounds.map((x) => x.answeredMs)).sort(), 0.5);
  r.serverCpuMsPerWrite = acc.serverUs / 1000 / acc.rounds.length;
  r.clientCpuMsPerWrite = acc.clientUs / 1000 / acc.rounds.length;
  r.foreignPct = acc.foreign.reduce((a, x) => a + x, 0) / acc.foreign.length;
  r.bytes = acc.rounds.find((x) => x.bytes)?.bytes ?? NaN;
}

/**
 * Starts every server (each warmed by one write, its idle RSS read), then runs PASSES passes, the servers taking
 * turns within each pass, so that a change in the machine's load (other processes share these cores) weighs on all.
 */
async function runAll(): Promise<Partial<Record<ServerName, Result>>> {
  const servers: Server[] = [];
  const results: Partial<Record<ServerName, Result>> = {};
  try {
    for (const name of SERVERS) {
      log(`${LABEL[name]}: starting`);
      const s = await startServer(name);
      servers.push(s);
      await write(s); // the write path warm, the doctype created, before the idle RSS is read
      await sleep(1_000);
      const r = emptyResult(name);
      r.rssBefore = rssMB(s.pid).rss;
      results[name] = r;
      log(`${LABEL[name]}: RSS ${r.rssBefore.toFixed(0)} MB before any socket`);
    }
    for (let pass = 1; pass <= PASSES; pass++) {
      const writes = Math.floor(WRITES / PASSES) + (pass <= WRITES % PASSES ? 1 : 0);
      for (const s of servers) await runPass(s, results[s.name]!, pass, writes);
    }
    for (const r of Object.values(results)) {
      finish(r);
      log(`${LABEL[r.name]}: ${r.delivered}/${r.expected} delivered, p50 ${fmtMs(percentile(r.lat, 0.5))} ms, p99 ${fmtMs(percentile(r.lat, 0.99))} ms, max ${fmtMs(r.lat[r.lat.length - 1] ?? NaN)} ms`);
    }
    return results;
  } finally {
    for (const s of servers) {
      s.agent.destroy();
      await stopChild(s.child.proc, s.child.dir);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const mb = (n: number | null | undefined) => (n !== null && n !== undefined && Number.isFinite(n) ? `${n.toFixed(0)} MB` : '–');
const kb = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} KB` : '–');
const perSocketKB = (r: Result | undefined) => (r && r.connected ? ((r.rssConnected - r.rssBefore) * 1024) / r.connected : NaN);
const p = (r: Result | undefined, q: number) => (r ? percentile(r.lat, q) : NaN);
const max = (r: Result | undefined) => (r && r.lat.length ? r.lat[r.lat.length - 1]! : NaN);
const ms = (n: number) => (Number.isFinite(n) ? `${fmtMs(n)} ms` : '–');

function report(results: Partial<Record<ServerName, Result>>, seconds: number): string {
  const h = results.hearth;
  const w = results.ws;
  const row = (measure: string, hv: string, wv: string, ratio = '–') => `| ${measure} | ${hv} | ${wv} | ${ratio} |`;
  const cell = (r: Result | undefined, f: (r: Result) => string) => (r ? f(r) : '–');
  const problems = (r: Result | undefined) => {
    if (!r) return [];
    const out: string[] = [];
    if (r.failed) out.push(`${LABEL[r.name]}: ${r.failed} sockets did not open; first: ${r.firstFailure}`);
    if (r.closed) out.push(`${LABEL[r.name]}: ${r.closed} sockets were closed by the server during the run`);
    if (r.bad) out.push(`${LABEL[r.name]}: ${r.bad} unexpected messages during the writes; first: \`${r.firstBad}\``);
    if (r.extra) out.push(`${LABEL[r.name]}: ${r.extra} extra messages (more than one per socket and write); first: \`${r.firstExtra}\``);
    if (r.stray) out.push(`${LABEL[r.name]}: ${r.stray} messages outside the writes; first: \`${r.firstStray}\``);
    return out;
  };
  const notes = [...problems(h), ...problems(w)];
  const targets: Target[] = [
    { name: `fan-out p99, ${SOCKETS} sockets`, goal: '< 100 ms', measured: ms(p(h, 0.99)), pass: h ? p(h, 0.99) < 100 : null },
    { name: `server RSS with ${SOCKETS} sockets connected`, goal: '< 1 GB', measured: h ? `${mb(h.rssConnected)} (${h.connected} connected; peak ${mb(h.peakDuringWrites)} during the writes)` : '–', pass: h ? h.connected === SOCKETS && h.rssConnected < 1024 && (h.peakDuringWrites ?? 0) < 1024 : null },
    { name: 'every socket gets every event', goal: `${SOCKETS * WRITES} deliveries`, measured: h ? `${h.delivered}/${SOCKETS * WRITES}` : '–', pass: h ? h.delivered === SOCKETS * WRITES && h.bad === 0 : null },
  ];
  return [
    '# Realtime benchmark (`npm run bench`, bench/realtime.bench.ts)',
    '',
    `Run ${new Date().toISOString()} on ${machine()}; ${gitInfo()}; Node ${process.version}, ws ${pkgVersion(join(ROOT, 'node_modules/ws/package.json'))}; ${seconds.toFixed(0)} s.`,
    '',
    `${SOCKETS} WebSockets opened from the benchmark process (the client) to one instance, ${BATCH} at a time, each sending`,
    `AUTH then SUBSCRIBE to \`${DOCTYPE}\`; then ${WRITES} documents written one by one (POST /data/${DOCTYPE}/), each after the`,
    `previous one's events all arrived and a ${SPACING_MS} ms pause. A delivery's latency runs from just before the write request is`,
    `sent to the arrival of its CREATED event on that socket. The writes are split over ${PASSES} pass(es), the servers taking turns`,
    `(sockets opened, ${WARMUP_WRITES} warm-up writes not counted, the writes, sockets closed), so that the load of other processes`,
    'on this shared machine weighs on both alike.',
    '',
    targetTable(targets),
    '',
    '| measure | Hearth | reference: bare ws | ratio |',
    '|---|---|---|---|',
    row('sockets open and subscribed', cell(h, (r) => `${r.connected}/${SOCKETS} in ${r.connectSeconds.toFixed(1)} s`), cell(w, (r) => `${r.connected}/${SOCKETS} in ${r.connectSeconds.toFixed(1)} s`), fmtRatio(h?.connectSeconds, w?.connectSeconds)),
    row('deliveries received / expected', cell(h, (r) => `${r.delivered}/${r.expected}`), cell(w, (r) => `${r.delivered}/${r.expected}`)),
    row('fan-out latency p50', ms(p(h, 0.5)), ms(p(w, 0.5)), fmtRatio(p(h, 0.5), p(w, 0.5))),
    row('fan-out latency p99', ms(p(h, 0.99)), ms(p(w, 0.99)), fmtRatio(p(h, 0.99), p(w, 0.99))),
    row('fan-out latency max', ms(max(h)), ms(max(w)), fmtRatio(max(h), max(w))),
    row('fan-out latency p99 of each pass', cell(h, (r) => r.passP99.map(ms).join(', ')), cell(w, (r) => r.passP99.map(ms).join(', '))),
    row('time to the last socket, median over the writes', ms(h ? percentile(h.lastPerWrite, 0.5) : NaN), ms(w ? percentile(w.lastPerWrite, 0.5) : NaN), fmtRatio(h ? percentile(h.lastPerWrite, 0.5) : NaN, w ? percentile(w.lastPerWrite, 0.5) : NaN)),
    row('write answered (POST → 201), median', ms(h?.answeredP50 ?? NaN), ms(w?.answeredP50 ?? NaN), fmtRatio(h?.answeredP50, w?.answeredP50)),
    row('server CPU per write (fan-out included)', ms(h?.serverCpuMsPerWrite ?? NaN), ms(w?.serverCpuMsPerWrite ?? NaN), fmtRatio(h?.serverCpuMsPerWrite, w?.serverCpuMsPerWrite)),
    row('client CPU per write (receiving and checking every event)', ms(h?.clientCpuMsPerWrite ?? NaN), ms(w?.clientCpuMsPerWrite ?? NaN), '–'),
    row('CPU not charged to the benchmark\'s processes during the writes (others\' work, and kernel softirq of the loopback traffic)', cell(h, (r) => `${r.foreignPct.toFixed(0)}%`), cell(w, (r) => `${r.foreignPct.toFixed(0)}%`)),
    row('event size', cell(h, (r) => `${r.bytes} bytes`), cell(w, (r) => `${r.bytes} bytes`)),
    row('server RSS before the sockets connect', mb(h?.rssBefore), mb(w?.rssBefore), fmtRatio(h?.rssBefore, w?.rssBefore)),
    row(`server RSS with ${SOCKETS} sockets connected`, mb(h?.rssConnected), mb(w?.rssConnected), fmtRatio(h?.rssConnected, w?.rssConnected)),
    row('server RSS per connected socket', kb(perSocketKB(h)), kb(perSocketKB(w)), fmtRatio(perSocketKB(h), perSocketKB(w))),
    row('server RSS after the sockets closed', mb(h?.rssAfterClose), mb(w?.rssAfterClose), fmtRatio(h?.rssAfterClose, w?.rssAfterClose)),
    row('server peak RSS during the writes', mb(h?.peakDuringWrites), mb(w?.peakDuringWrites), fmtRatio(h?.peakDuringWrites ?? NaN, w?.peakDuringWrites ?? NaN)),
    '',
    ...(notes.length ? ['Problems seen:', '', ...notes.map((n) => `- ${n}`), ''] : []),
    '**Hearth**: bench/hearth-server.ts (`createHearth(testConfig(dir))`: the test configuration, data durable on',
    'commit), one instance `localhost:<port>`, a CLI token for `io.cozy.contacts` used both for AUTH and for the writes;',
    'its latency includes the durable write of the document before its event is published.',
    '**Reference**: bench/ws-server.ts, a bare `ws` WebSocketServer on node:http (no framework, no storage, no permission',
    'check) that encodes the event once and `send`s the same buffer to every subscriber: the floor of the fan-out.',
    'Both without permessage-deflate. Both servers and the client share this machine\'s cores, so the latency includes',
    'the client reading the events (its CPU per write is in the table). "Write answered" is the time until the writer gets',
    'its 201: the reference answers before it fans out; a server that fans out first makes the writer wait for every send.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  startWatchdog(WATCHDOG_MS);
  const t0 = Date.now();
  log(`realtime fan-out: ${SOCKETS} sockets, ${WRITES} writes, servers ${SERVERS.join(',')}${SOURCES > 1 ? `, ${SOURCES} source addresses` : ''}`);
  for (const name of SERVERS) {
    if (!ALL_SERVERS.includes(name)) throw new Error(`BENCH_RT_SERVERS: unknown server "${name}" (use ${ALL_SERVERS.join(',')})`);
  }
  const results = await runAll();
  const md = report(results, (Date.now() - t0) / 1000);
  if (FULL_RUN) {
    writeFileSync(join(BENCH_DIR, 'RESULTS-realtime.md'), md);
    process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-realtime.md')}\n`);
  } else process.stdout.write(md);
}

try {
  await main();
} catch (e) {
  log(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  killChildren();
  process.exit(1);
}
process.exit(0);
