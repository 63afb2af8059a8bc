/** Human-readable logs (log.pretty), and secrets carried in URL paths (download and archive links) kept out of the logs. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { createHearth } from './compose.js';
import { createLogger, prettyLogs, redactUrl } from './logger.js';

/** A real server logging into a string with `pretty`, its instance `localhost:<port>` and a CLI token for `scope`. */
async function withLoggedServer(
  pretty: boolean,
  scope: string,
  fn: (s: { port: number; host: string; token: string; logs: () => string }) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hearth-logs-'));
  let logs = '';
  const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
  const config = testConfig(dataDir, { log: { level: 'info', pretty } });
  const hearth = await createHearth(config, createLogger(config, sink));
  try {
    await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
    const port = (hearth.publicApp.server.address() as AddressInfo).port;
    const host = `localhost:${port}`;
    const instance = await hearth.registry.create({ domain: host });
    const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope });
    await fn({ port, host, token, logs: () => logs });
  } finally {
    await hearth.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('log.pretty', () => {
  it('is on in --dev unless set, off otherwise', () => {
    expect(prettyLogs({ dev: true, log: { level: 'info', pretty: null } })).toBe(true);
    expect(prettyLogs({ dev: false, log: { level: 'info', pretty: null } })).toBe(false);
    expect(prettyLogs({ dev: true, log: { level: 'info', pretty: false } })).toBe(false);
    expect(prettyLogs({ dev: false, log: { level: 'info', pretty: true } })).toBe(true);
  });

  it('writes one human-readable line per request, not two JSON ones', async () => {
    await withLoggedServer(true, 'io.cozy.notes', async ({ port, host, token, logs }) => {
      await rawRequest(port, 'GET', '/data/io.cozy.notes/_all_docs?bearer_token=' + token, { host });
      await rawRequest(port, 'GET', '/nowhere', { host });
      await new Promise((r) => setImmediate(r));
      const lines = logs().split('\n').filter((l) => / → \d{3} in /.test(l));
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(new RegExp(`INFO.*: GET ${host}/data/io\\.cozy\\.notes/_all_docs\\?bearer_token=\\[redacted\\] → 200 in [\\d.]+ ms$`));
      expect(lines[1]).toMatch(/GET .*\/nowhere → 404 in/);
      expect(logs()).not.toContain('incoming request');
      expect(logs()).not.toContain('{"level"');
      expect(logs()).not.toContain(token);
    });
  });
});

describe('secrets in URL paths', () => {
  it.each([false, true])('redacts the 10-minute download and archive links of real requests (pretty: %s)', async (pretty) => {
    await withLoggedServer(pretty, 'io.cozy.files', async ({ port, host, token, logs }) => {
      const up = await rawRequest(port, 'POST', '/files/io.cozy.files.root-dir?Type=file&Name=a.txt', { token, raw: 'hello', host });
      expect(up.status, up.text).toBe(201);
      const dl = await rawRequest(port, 'POST', '/files/downloads?Path=/a.txt', { token, host });
      const zip = await rawRequest(port, 'POST', '/files/archive', { token, host, body: { data: { attributes: { files: ['/a.txt'] } } } });
      const links = [dl.body.links.related as string, zip.body.links.related as string];
      for (const link of links) expect((await rawRequest(port, 'GET', link, { host })).status).toBe(200);
      await new Promise((r) => setImmediate(r));
      const secrets = links.map((l) => l.split('/')[3] as string);
      expect(secrets.every((s) => s.length > 20)).toBe(true);
      for (const secret of secrets) expect(logs()).not.toContain(secret);
      expect(logs()).toContain('/files/downloads/[redacted]/a.txt');
      expect(logs()).toContain('/files/archive/[redacted]/archive.zip');
    });
  });

  it('redacts the link segment of every secret path, and only that', () => {
    expect(redactUrl('/files/downloads/abc.def/bill.pdf?Dl=1')).toBe('/files/downloads/[redacted]/bill.pdf?Dl=1');
    expect(redactUrl('/files/archive/abc.def/archive.zip')).toBe('/files/archive/[redacted]/archive.zip');
    expect(redactUrl('/files/f1/thumbnails/0123abcd/large')).toBe('/files/f1/thumbnails/[redacted]/large');
    expect(redactUrl('/jobs/webhooks/w1?x=1')).toBe('/jobs/webhooks/[redacted]?x=1');
    expect(redactUrl('/files/downloads?Path=/bill.pdf')).toBe('/files/downloads?Path=/bill.pdf');
    expect(redactUrl('/files/download/f1')).toBe('/files/download/f1');
  });
});
