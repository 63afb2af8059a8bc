/**
 * The first use of routes on a fresh server (farm.bench.ts's start-up run): each route's validators and serializers
 * are made on its first request, from the code `npm run build` compiled (dist/schemas, src/server/schema-code.ts) or,
 * with `server.precompiledSchemas` off, compiled on the event loop by Ajv and fast-json-stringify as before. For each
 * way, fresh farm servers (bench/farm-server.ts: it measures its own stalls) each get one round of a konnector's
 * requests on /data, one after the other, and report the longest event-loop stall and the most time the main thread
 * spent on a core in one stall. The two ways alternate, server after server, so that both see the same load.
 */
import { Agent } from 'node:http';
import type { Farm, Measures } from './farm-engines.js';
import { fmtMs, log, send } from './lib.js';

type StartFarm = (opts: { env?: NodeJS.ProcessEnv }) => Promise<Farm>;
type StopFarm = (farm: Farm) => Promise<void>;

/** A first round on /data: write, read, list, query, changes (the routes a konnector's first run uses). */
const REQUESTS: Array<[string, string, unknown?]> = [
  ['PUT', '/data/io.cozy.bench/touched', { i: 1 }],
  ['GET', '/data/io.cozy.bench/touched'],
  ['POST', '/data/io.cozy.bench/', { kind: 'bill', amount: 12 }],
  ['GET', '/data/io.cozy.bench/_all_docs?include_docs=true'],
  ['POST', '/data/io.cozy.bench/_index', { index: { fields: ['kind'] } }],
  ['POST', '/data/io.cozy.bench/_find', { selector: { kind: 'bill' } }],
  ['GET', '/data/io.cozy.bench/_changes?since=0'],
  ['GET', '/data/io.cozy.bench/_normal_docs?limit=10'],
  ['GET', '/status'],
];

async function round(farm: Farm): Promise<Measures> {
  const { domain, token } = ((await farm.call('create', { from: 0, to: 1 })).result as Array<{ domain: string; token: string }>)[0]!;
  const agent = new Agent({ keepAlive: true });
  await farm.call('phase');
  for (const [method, path, body] of REQUESTS) {
    const res = await send({
      port: farm.port, method, path, agent, ...(body ? { body: Buffer.from(JSON.stringify(body)) } : {}),
      headers: { host: domain, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    });
    if (res.status >= 300) throw new Error(`${method} ${path} answered ${res.status}: ${res.body.toString().slice(0, 300)}`);
  }
  agent.destroy();
  return (await farm.call('measure')).measures;
}

export interface FirstUse { built: Measures[]; runtime: Measures[] }

/** `rounds` fresh servers of each way, alternating. */
export async function firstUse(startFarm: StartFarm, stopFarm: StopFarm, rounds: number): Promise<FirstUse> {
  const out: FirstUse = { built: [], runtime: [] };
  for (let i = 0; i < rounds; i++) {
    for (const way of ['built', 'runtime'] as const) {
      const farm = await startFarm(way === 'runtime' ? { env: { BENCH_SCHEMAS: 'runtime' } } : {});
      out[way].push(await round(farm));
      await stopFarm(farm);
    }
  }
  const worst = (ms: Measures[]) => `${fmtMs(Math.max(...ms.map((m) => m.maxStallMs)))} ms (on a core ${fmtMs(Math.max(...ms.map((m) => m.maxStallCpuMs)))} ms)`;
  log(`first use of /data's routes: longest stall ${worst(out.built)} with the build's code, ${worst(out.runtime)} compiled at run time`);
  return out;
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function firstUseTable(r: FirstUse): string[] {
  const line = (name: string, ms: Measures[]) =>
    `| ${name} | ${fmtMs(median(ms.map((m) => m.maxStallMs)))} ms | ${fmtMs(Math.max(...ms.map((m) => m.maxStallMs)))} ms | ${fmtMs(median(ms.map((m) => m.maxStallCpuMs)))} ms | ${fmtMs(Math.max(...ms.map((m) => m.maxStallCpuMs)))} ms | ${fmtMs(median(ms.map((m) => m.seconds * 1000)))} ms |`;
  return [
    `## First use of /data's routes on a fresh server (${r.built.length} servers each way, alternating)`,
    '',
    `${REQUESTS.length} requests one after the other (${REQUESTS.map(([m, p]) => `${m} ${p.replace('/data/io.cozy.bench', '').split('?')[0] || '/'}`).join(', ')}) on /data/io.cozy.bench, a new instance, right after the start.`,
    '',
    '| validators and serializers | longest stall (median, worst) | | most time on a core in one stall (median, worst) | | the round\'s wall time (median) |',
    '|---|---|---|---|---|---|',
    line('from the build\'s code (dist/schemas)', r.built),
    line('compiled at run time (`server.precompiledSchemas: false`, as before)', r.runtime),
    '',
  ];
}
