/**
 * The ceiling: a bare Fastify 5 (the same version Hearth uses) with a GET returning a
 * small JSON and a POST echoing its body. `node --import tsx bench/fastify-server.ts`;
 * prints one JSON line {port}.
 */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';

const app = Fastify({ logger: false });
app.get('/ping', async () => ({ ok: true, id: 'doc-000001', rev: '1-0123456789abcdef0123456789abcdef', name: 'fastify' }));
app.post('/echo', async (req, reply) => reply.code(201).send(req.body));
await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(JSON.stringify({ port: (app.server.address() as AddressInfo).port }) + '\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
