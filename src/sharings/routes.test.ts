/** GET /sharings/doctype/:doctype and GET /sharings/drives on a real server: empty lists in cozy's shape, cozy-stack's checks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { CozyStackClient } from '../../test/helpers/stack-client.js';

let h: TestHearth;
let files = '';
beforeAll(async () => {
  h = await startTestHearth();
  files = await h.cliToken('io.cozy.files');
});
afterAll(() => h.close());

describe('the sharings Drive and Home read at start', () => {
  it('answers {"data": [], "meta": {"count": 0}} in JSON-API, and cozy-client\'s SharingCollection reads them', async () => {
    for (const path of ['/sharings/doctype/io.cozy.files?shared_docs=false', '/sharings/doctype/io.cozy.files', '/sharings/drives']) {
      const res = await h.req('GET', path, { token: files });
      expect(res.status, path).toBe(200);
      expect(res.headers['content-type']).toContain('application/vnd.api+json');
      expect(res.body).toEqual({ data: [], meta: { count: 0 } });
    }
    const sharings = new CozyStackClient({ uri: h.url, token: files }).collection('io.cozy.sharings');
    expect((await sharings.findByDoctype('io.cozy.files', { withSharedDocs: false })).data).toEqual([]);
    expect(await sharings.fetchSharedDrives()).toEqual({ data: [] });
    const app = await h.hearth.appToken(h.instance, 'drive');
    await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files');
    expect((await h.req('GET', '/sharings/drives', { token: app.token, headers: { cookie: `cozysessid=${app.session_cookie}` } })).status).toBe(200);
  });

  it('needs GET on the whole doctype (io.cozy.files for the drives): 401, 400 another instance\'s token, 403 otherwise, 400 a bad doctype', async () => {
    for (const path of ['/sharings/doctype/io.cozy.files', '/sharings/drives']) {
      expect((await h.req('GET', path)).status).toBe(401);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.files', h.other) })).status).toBe(400);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.contacts') })).status).toBe(403);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.files:POST') })).status).toBe(403);
      expect((await h.req('GET', path, { token: await h.cliToken('io.cozy.files:GET:io.cozy.files.root-dir') })).status).toBe(403);
    }
    expect((await h.req('GET', '/sharings/doctype/io.cozy.contacts', { token: await h.cliToken('io.cozy.contacts:GET') })).status).toBe(200);
    expect((await h.req('GET', '/sharings/doctype/io.cozy.contacts', { token: files })).status).toBe(403);
    expect((await h.req('GET', '/sharings/doctype/Bad$Type', { token: files })).status).toBe(400);
  });
});
