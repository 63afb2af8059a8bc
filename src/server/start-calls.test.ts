/**
 * What cozy's Drive and Home call when they start, with a web app's token bound to the owner's
 * session (as an app page has it), checked against cozy-stack's answers: status, media type and shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../test/helpers/hearth.js';
import { ROOT, upload } from '../../test/helpers/files.js';
import { openWs } from '../../test/helpers/ws.js';

let h: TestHearth;
let drive = '';
let home = '';
let cookie = '';
const JSONAPI = 'application/vnd.api+json';

beforeAll(async () => {
  h = await startTestHearth();
  // the rights of Drive's and Home's manifests that these calls use
  await h.hearth.perms.grantApp(h.instance, 'drive', 'io.cozy.files io.cozy.settings:GET io.cozy.apps:GET io.cozy.jobs:GET io.cozy.triggers:GET io.cozy.contacts');
  await h.hearth.perms.grantApp(h.instance, 'home', 'io.cozy.accounts io.cozy.settings:GET io.cozy.apps:GET io.cozy.konnectors:GET io.cozy.jobs:GET io.cozy.triggers:GET');
  const d = await h.hearth.appToken(h.instance, 'drive');
  drive = d.token;
  cookie = `cozysessid=${d.session_cookie}`;
  // both apps are opened in the same session
  home = await h.hearth.tokens.issue(h.instance, { aud: 'app', sub: 'home', session_id: JSON.parse(Buffer.from(drive.split('.')[1] as string, 'base64url').toString()).session_id });
});
afterAll(() => h.close());

const as = (token: string) => ({ token, headers: { cookie } });

describe('Drive and Home start calls', () => {
  it('/settings/instance, /settings/context and /settings/disk-usage answer JSON-API settings documents', async () => {
    for (const [path, id] of [['/settings/instance', 'io.cozy.settings.instance'], ['/settings/context', 'io.cozy.settings.context'], ['/settings/disk-usage', 'io.cozy.settings.disk-usage']] as const) {
      for (const token of [drive, home]) {
        const res = await h.req('GET', path, as(token));
        expect(res.status, `${path}: ${res.text}`).toBe(200);
        expect(res.headers['content-type']).toContain(JSONAPI);
        expect(res.body.data).toMatchObject({ type: 'io.cozy.settings', id });
      }
    }
    const usage = (await h.req('GET', '/settings/disk-usage', as(drive))).body.data.attributes;
    expect(usage).toMatchObject({ used: expect.stringMatching(/^\d+$/), files: expect.stringMatching(/^\d+$/), versions: expect.stringMatching(/^\d+$/) });
  });

  it('/permissions/doctype/io.cozy.files/shared-by-link lists the share links (none yet) in JSON-API', async () => {
    const res = await h.req('GET', '/permissions/doctype/io.cozy.files/shared-by-link', as(drive));
    expect(res.status, res.text).toBe(200);
    expect(res.headers['content-type']).toContain(JSONAPI);
    expect(res.body).toMatchObject({ data: [], meta: { count: 0 } });
  });

  it('POST /files/_find and POST /files/downloads answer as cozy-stack', async () => {
    const file = await upload(h, await h.cliToken('io.cozy.files'), ROOT, 'start.txt', 'hello');
    const found = await h.req('POST', '/files/_find', { ...as(drive), body: { selector: { type: 'file', name: 'start.txt' }, limit: 10 } });
    expect(found.status, found.text).toBe(200);
    expect(found.headers['content-type']).toContain(JSONAPI);
    expect(found.body.data).toEqual([expect.objectContaining({ type: 'io.cozy.files', id: file.id })]);
    expect(found.body.meta).toMatchObject({ count: 1 });
    const link = await h.req('POST', `/files/downloads?Id=${file.id}`, as(drive));
    expect(link.status, link.text).toBe(200);
    expect(link.body.links.related).toMatch(/^\/files\/downloads\/[^/]+\/start\.txt$/);
    expect((await h.req('GET', link.body.links.related)).text).toBe('hello');
  });

  it('/data/io.cozy.accounts/_normal_docs answers an empty page before any account, then the accounts', async () => {
    const none = await h.req('GET', '/data/io.cozy.accounts/_normal_docs', as(home));
    expect(none.status, none.text).toBe(200);
    expect(none.body).toMatchObject({ rows: [], total_rows: 0 });
    await h.req('POST', '/data/io.cozy.accounts/', { ...as(home), body: { account_type: 'example', auth: { login: 'me' } } });
    const one = await h.req('GET', '/data/io.cozy.accounts/_normal_docs', as(home));
    expect(one.body).toMatchObject({ total_rows: 1, rows: [expect.objectContaining({ account_type: 'example' })] });
  });

  it('/public/avatar answers an image without any credential', async () => {
    const res = await h.req('GET', '/public/avatar');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^image\//);
  });

  it('the realtime WebSocket takes the app token and sends the app\'s events', async () => {
    const ws = await openWs(h.port, h.domain, { headers: { cookie } });
    try {
      ws.auth(drive);
      ws.subscribe('io.cozy.files');
      await ws.barrier();
      const made = await upload(h, await h.cliToken('io.cozy.files'), ROOT, 'live.txt', 'x');
      const event = await ws.next((m) => m.event === 'CREATED' && m.payload.id === made.id);
      expect(event.payload).toMatchObject({ type: 'io.cozy.files', doc: { name: 'live.txt' } });
    } finally {
      await ws.close();
    }
  });
});
