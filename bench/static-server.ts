/**
 * The reference of bench/apps-serve.bench.ts: a bare Fastify (Hearth's version) with @fastify/static on the same app
 * folder. `static-server.js <dir> <appDir>`; prints one JSON line {port}.
 */
import Fastify from 'fastify';
import fastifyStatic from '@fastify/static';
import type { AddressInfo } from 'node:net';

const appDir = process.argv[3];
if (!appDir) throw new Error('usage: static-server.ts <dir> <appDir>');
const app = Fastify({ logger: false });
await app.register(fastifyStatic, { root: appDir });
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ port: (app.server.address() as AddressInfo).port }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
