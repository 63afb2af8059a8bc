/**
 * `npm run bench`, apps part: serving a web app on its host, side by side with a bare static file server in the same run.
 *   - index: `GET /` of the app, templated (an app token issued for the session, every variable of the contract, the
 *     CSP), against @fastify/static sending the same index.html untouched;
 *   - asset: a content-hashed 200 KB JavaScript file, against @fastify/static on the same file.
 * Both servers run compiled in their own processes (bench/apps-server.ts, bench/static-server.ts), measured one at a time
 * in alternating short runs (7 rounds), so that both see the same load from the rest of the machine; a ratio is the
 * median of the rounds' ratios (paired), the rates the median runs. Targets (issue 14): index ≥ 50 % of the static
 * rate, asset ≥ 80 %.
 * Writes bench/RESULTS-apps.md. BENCH_QUICK=1: shorter runs, no results file.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import {
  BENCH_DIR, fmtMs, fmtOps, fmtRatio, gitInfo, log, machine, medianRun, runLoad, send, startChild, startWatchdog, stopChild, targetTable, tempDir, type Stats,
} from './lib.js';

const QUICK = process.env.BENCH_QUICK === '1';
const DURATION = QUICK ? 1000 : 3000;
const ROUNDS = QUICK ? 3 : 7;
const CONCURRENCY = 8;
const ASSET = 'app.0123456789abcdef.js';

const INDEX = `<!DOCTYPE html>
<html lang="{{.Locale}}">
<head>
  <meta charset="utf-8"><title>{{.AppName}}</title>
  <meta name="viewport" content="width=device-width,initial-scale=1">
  {{.Favicon}}
  {{.CozyClientJS}}
  {{.CozyBar}}
  {{.ThemeCSS}}
  <link rel="stylesheet" href="/app.css">
  <script src="/${ASSET}" defer></script>
</head>
<body>
  <div role="application" data-cozy="{{.CozyData}}" data-cozy-token="{{.Token}}" data-cozy-domain="{{.Domain}}"
       data-cozy-locale="{{.Locale}}" data-cozy-app-name="{{.AppName}}" data-cozy-app-slug="{{.AppSlug}}"
       data-cozy-icon-path="{{.IconPath}}" data-cozy-tracking="{{.Tracking}}"></div>
  <script>window.cozy = { capabilities: {{.Capabilities}}, flags: {{.Flags}}, subdomain: {{.SubDomain}} };</script>
</body>
</html>
`;

function appFolder(): string {
  const dir = tempDir('bench-app-');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'manifest.webapp'), JSON.stringify({ slug: 'bench', name: 'Bench', editor: 'Hearth', version: '1.0.0', icon: 'icon.svg' }));
  writeFileSync(join(dir, 'index.html'), INDEX);
  // 200 KB of JavaScript-looking text (a bundle), not compressible to nothing
  const lines: string[] = [];
  let size = 0;
  while (size < 200 * 1024) {
    const line = `var v${lines.length}="${randomBytes(48).toString('base64')}";\n`;
    lines.push(line);
    size += line.length;
  }
  writeFileSync(join(dir, ASSET), lines.join(''));
  return dir;
}

async function measure(port: number, path: string, headers: Record<string, string>, minBytes: number): Promise<Stats> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    return await runLoad({
      concurrency: CONCURRENCY, durationMs: DURATION, warmupMs: QUICK ? 300 : 1000,
      op: async () => {
        const res = await send({ port, method: 'GET', path, headers, agent });
        if (res.status !== 200 || res.body.length < minBytes) throw new Error(`${path}: ${res.status}, ${res.body.length} bytes: ${res.body.toString('utf8', 0, 200)}`);
        return true;
      },
    });
  } finally {
    agent.destroy();
  }
}

startWatchdog(10 * 60_000);
const dir = appFolder();
const hearth = await startChild('apps-hearth', 'apps-server.ts', [dir]);
const bare = await startChild('apps-static', 'static-server.ts', [dir]);
const h = { port: Number(hearth.line.port), headers: { host: String(hearth.line.host), cookie: String(hearth.line.cookie) } };
const s = { port: Number(bare.line.port), headers: { host: `127.0.0.1:${String(bare.line.port)}` } };
const runs = { hIndex: [] as Stats[], sIndex: [] as Stats[], hAsset: [] as Stats[], sAsset: [] as Stats[] };
for (let i = 0; i < ROUNDS; i++) {
  log(`round ${i + 1}/${ROUNDS}`);
  runs.hIndex.push(await measure(h.port, '/', h.headers, 500));
  runs.sIndex.push(await measure(s.port, '/index.html', s.headers, 500));
  runs.hAsset.push(await measure(h.port, `/${ASSET}`, h.headers, 200 * 1024));
  runs.sAsset.push(await measure(s.port, `/${ASSET}`, s.headers, 200 * 1024));
}
await Promise.all([stopChild(hearth.proc, hearth.dir), stopChild(bare.proc, bare.dir)]);
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, medianRun(v)!])) as Record<keyof typeof runs, Stats>;
const row = (name: string, a: Stats, b: Stats) =>
  `| ${name} | ${fmtOps(a.opsPerSec)} (${fmtOps(a.range?.[0] ?? NaN)}–${fmtOps(a.range?.[1] ?? NaN)}) | ${fmtMs(a.p50)} / ${fmtMs(a.p99)} | ${fmtOps(b.opsPerSec)} (${fmtOps(b.range?.[0] ?? NaN)}–${fmtOps(b.range?.[1] ?? NaN)}) | ${fmtMs(b.p50)} / ${fmtMs(b.p99)} | ${fmtRatio(a.opsPerSec, b.opsPerSec)} | ${a.errors + b.errors} |`;
const pairedRatio = (a: Stats[], b: Stats[]) => {
  const ratios = a.map((x, i) => x.opsPerSec / (b[i]?.opsPerSec ?? NaN)).sort((x, y) => x - y);
  return ratios[Math.floor(ratios.length / 2)] ?? NaN;
};
const indexRatio = pairedRatio(runs.hIndex, runs.sIndex);
const assetRatio = pairedRatio(runs.hAsset, runs.sAsset);
const md = `# Serving web apps: benchmark results

${gitInfo()}; ${machine()}; Node ${process.version}; ${CONCURRENCY} concurrent keep-alive clients, ${DURATION / 1000} s per run
after a warm-up, ${ROUNDS} rounds alternating the servers: median run (range of the runs in parentheses); the target
ratios are the medians of the rounds' paired ratios. Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')}
(2 cores shared with other work: the absolute rates move with it, the paired ratios much less).

| request | Hearth req/s | Hearth p50 / p99 ms | @fastify/static req/s | static p50 / p99 ms | Hearth / static | errors |
|---|---|---|---|---|---|---|
${row('index.html (Hearth: templated, app token, CSP)', m.hIndex, m.sIndex)}
${row('200 KB hashed asset', m.hAsset, m.sAsset)}

${targetTable([
  { name: 'templated index vs static', goal: '≥ 50 %', measured: `${(indexRatio * 100).toFixed(0)} %`, pass: indexRatio >= 0.5 },
  { name: 'hashed asset vs static', goal: '≥ 80 %', measured: `${(assetRatio * 100).toFixed(0)} %`, pass: assetRatio >= 0.8 },
])}
`;
process.stdout.write(md);
for (const [k, v] of Object.entries(m)) if (v.note) log(`${k}: ${v.note}`);
if (!QUICK) {
  writeFileSync(join(BENCH_DIR, 'RESULTS-apps.md'), md);
  process.stdout.write(`wrote ${join(BENCH_DIR, 'RESULTS-apps.md')}\n`);
}
process.exit(0);
