/** Secrets carried in URL paths (download and archive links) never reach the logs. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { rawRequest, testConfig } from '../../test/helpers/hearth.js';
import { createHearth } from './compose.js';
import { createLogger, redactUrl } from './logger.js';

describe('secrets in URL paths', () => {
  it('redacts the 10-minute download and archive links of real requests', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hearth-logs-'));
    let logs = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((logs += String(chunk)), done()) });
    const config = testConfig(dataDir, { log: { ...testConfig(dataDir).log, level: 'info' } });
    const hearth = await createHearth(config, createLogger(config, sink));
    try {
      await hearth.publicApp.listen({ host: '127.0.0.1', port: 0 });
      const port = (hearth.publicApp.server.address() as AddressInfo).port;
      const host = `localhost:${port}`;
      const instance = await hearth.registry.create({ domain: host });
      const token = await hearth.tokens.issue(instance, { aud: 'cli', sub: 'test', scope: 'io.cozy.files' });
      const up = await rawRequest(port, 'POST', '/files/io.cozy.files.root-dir?Type=file&Name=a.txt', { token, raw: 'hello', host });
      expect(up.status, up.text).toBe(201);
      const dl = await rawRequest(port, 'POST', '/files/downloads?Path=/a.txt', { token, host });
      const zip = await rawRequest(port, 'POST', '/files/archive', { token, host, body: { data: { attributes: { files: ['/a.txt'] } } } });
      const links = [dl.body.links.related as string, zip.body.links.related as string];
      for (const link of links) expect((await rawRequest(port, 'GET', link, { host })).status).toBe(200);
      await new Promise((r) => setImmediate(r));
      const secrets = links.map((l) => l.split('/')[3] as string);
      expect(secrets.every((s) => s.length > 20)).toBe(true);
      for (const secret of secrets) expect(logs).not.toContain(secret);
      expect(logs).toContain('/files/downloads/[redacted]/a.txt');
      expect(logs).toContain('/files/archive/[redacted]/archive.zip');
    } finally {
      await hearth.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
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
