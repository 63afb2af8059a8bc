import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHearth, type TestHearth } from '../../../test/helpers/hearth.js';

let h: TestHearth;
let token: string;
const DT = 'io.cozy.replicated';
const r1 = '1-' + 'a'.repeat(32);
const r2a = '2-' + 'b'.repeat(32);
const r2b = '2-' + 'c'.repeat(32);

beforeAll(async () => {
  h = await startTestHearth();
  token = await h.cliToken(DT);
});
afterAll(() => h.close());

describe('replication protocol', () => {
  it('creates the doctype with PUT and reports db info', async () => {
    expect((await h.req('GET', `/data/${DT}/`, { token })).status).toBe(404);
    expect((await h.req('PUT', `/data/${DT}/`, { token })).status).toBe(201);
    expect((await h.req('PUT', `/data/${DT}/`, { token })).status).toBe(412);
    const info = await h.req('GET', `/data/${DT}/`, { token });
    expect(info.body).toMatchObject({ db_name: DT, doc_count: 0, update_seq: '0-' + info.body.update_seq.split('-')[1] });
  });

  it('accepts new_edits=false branches, keeps conflicts and picks CouchDB winner', async () => {
    const docs = [
      { _id: 'c1', _rev: r2a, v: 'a', _revisions: { start: 2, ids: ['b'.repeat(32), 'a'.repeat(32)] } },
      { _id: 'c1', _rev: r2b, v: 'b', _revisions: { start: 2, ids: ['c'.repeat(32), 'a'.repeat(32)] } },
    ];
    const res = await h.req('POST', `/data/${DT}/_bulk_docs`, { token, body: { docs, new_edits: false } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual([]);
    const doc = await h.req('GET', `/data/${DT}/c1?conflicts=true&revs=true`, { token });
    expect(doc.body._rev).toBe(r2b); // higher hash wins among equal positions
    expect(doc.body._conflicts).toEqual([r2a]);
    expect(doc.body._revisions).toEqual({ start: 2, ids: ['c'.repeat(32), 'a'.repeat(32)] });
    const open = await h.req('GET', `/data/${DT}/c1?open_revs=all`, { token });
    expect(open.body.map((r: { ok: { _rev: string } }) => r.ok._rev).sort()).toEqual([r2a, r2b]);
    const specific = await h.req('GET', `/data/${DT}/c1?open_revs=${encodeURIComponent(JSON.stringify([r2a, '9-' + 'f'.repeat(32)]))}`, { token });
    expect(specific.body).toEqual([{ ok: { _id: 'c1', _rev: r2a, v: 'a' } }, { missing: '9-' + 'f'.repeat(32) }]);
    const again = await h.req('POST', `/data/${DT}/_bulk_docs`, { token, body: { docs, new_edits: false } });
    expect(again.body).toEqual([]);
  });

  it('answers _revs_diff, _bulk_get (revs, latest) and _ensure_full_commit', async () => {
    const diff = await h.req('POST', `/data/${DT}/_revs_diff`, { token, body: { c1: [r2a, '3-' + 'd'.repeat(32)], nothere: [r1] } });
    diff.body.c1.possible_ancestors.sort();
    expect(diff.body).toEqual({ c1: { missing: ['3-' + 'd'.repeat(32)], possible_ancestors: [r2a, r2b] }, nothere: { missing: [r1] } });
    const bg = await h.req('POST', `/data/${DT}/_bulk_get?revs=true&latest=true`, { token, body: { docs: [{ id: 'c1', rev: r1 }, { id: 'zz', rev: r1 }] } });
    expect(bg.body.results[0].docs[0].ok._revisions.ids).toHaveLength(2);
    expect(bg.body.results[1].docs[0].error).toMatchObject({ id: 'zz', error: 'not_found' });
    const efc = await h.req('POST', `/data/${DT}/_ensure_full_commit`, { token, body: {} });
    expect(efc.status).toBe(201);
    expect(efc.body.ok).toBe(true);
  });

  it('stores _local docs with revs, outside changes and _all_docs', async () => {
    const put = await h.req('PUT', `/data/${DT}/_local/checkpoint`, { token, body: { last_seq: '5-x' } });
    expect(put.body).toMatchObject({ ok: true, id: '_local/checkpoint', rev: '0-1' });
    expect((await h.req('PUT', `/data/${DT}/_local/checkpoint`, { token, body: { last_seq: 'y' } })).status).toBe(409);
    const upd = await h.req('PUT', `/data/${DT}/_local/checkpoint`, { token, body: { _rev: '0-1', last_seq: '6-x' } });
    expect(upd.body.rev).toBe('0-2');
    const get = await h.req('GET', `/data/${DT}/_local/checkpoint`, { token });
    expect(get.body).toEqual({ _id: '_local/checkpoint', _rev: '0-2', last_seq: '6-x' });
    const changes = await h.req('GET', `/data/${DT}/_changes`, { token });
    expect(changes.body.results.map((r: { id: string }) => r.id)).not.toContain('_local/checkpoint');
  });

  it('accepts _local names that start with an underscore (PouchDB checkpoint ids), refuses control characters', async () => {
    // PouchDB names its checkpoint _local/<md5 in base64, "+" → "_">, which may begin with "_"
    const put = await h.req('PUT', `/data/${DT}/_local/_Xy9.q_w`, { token, body: { last_seq: '1-x' } });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ ok: true, id: '_local/_Xy9.q_w' });
    expect((await h.req('GET', `/data/${DT}/_local/_Xy9.q_w`, { token })).body).toEqual({ _id: '_local/_Xy9.q_w', _rev: '0-1', last_seq: '1-x' });
    const bad = await h.req('PUT', `/data/${DT}/_local/a%01b`, { token, body: {} });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('illegal_docid');
  });

  it('serves _all_docs with keys, ranges, include_docs and descending', async () => {
    for (const id of ['a1', 'a2', 'a3', 'b1']) await h.req('PUT', `/data/${DT}/${id}`, { token, body: { id } });
    const range = await h.req('GET', `/data/${DT}/_all_docs?startkey=%22a%22&endkey=%22a3%22&inclusive_end=false`, { token });
    expect(range.body.rows.map((r: { id: string }) => r.id)).toEqual(['a1', 'a2']);
    const desc = await h.req('GET', `/data/${DT}/_all_docs?descending=true&limit=2&include_docs=true`, { token });
    expect(desc.body.rows.map((r: { id: string }) => r.id)).toEqual(['c1', 'b1']);
    expect(desc.body.rows[1].doc).toMatchObject({ _id: 'b1', id: 'b1' });
    const keys = await h.req('POST', `/data/${DT}/_all_docs`, { token, body: { keys: ['a2', 'nope'] } });
    expect(keys.body.rows).toEqual([{ id: 'a2', key: 'a2', value: { rev: expect.any(String) } }, { key: 'nope', error: 'not_found' }]);
    const normal = await h.req('GET', `/data/${DT}/_normal_docs?limit=2`, { token });
    expect(normal.body.rows).toHaveLength(2);
    expect(normal.body.total_rows).toBe(5);
    const next = await h.req('GET', `/data/${DT}/_normal_docs?limit=2&bookmark=${normal.body.bookmark}`, { token });
    expect(next.body.rows[0]._id).toBe('a3');
  });
});

describe('changes feed', () => {
  it('pages with opaque seqs, style=all_docs and filters', async () => {
    const all = await h.req('GET', `/data/${DT}/_changes?style=all_docs`, { token });
    const c1 = all.body.results.find((r: { id: string }) => r.id === 'c1');
    expect(c1.changes).toHaveLength(2);
    expect(typeof all.body.last_seq).toBe('string');
    const page = await h.req('GET', `/data/${DT}/_changes?limit=2`, { token });
    expect(page.body.results).toHaveLength(2);
    expect(page.body.pending).toBe(all.body.results.length - 2);
    const rest = await h.req('GET', `/data/${DT}/_changes?since=${page.body.last_seq}`, { token });
    expect(rest.body.results.length).toBe(all.body.results.length - 2);
    const ids = await h.req('POST', `/data/${DT}/_changes?filter=_doc_ids`, { token, body: { doc_ids: ['a1', 'b1'] } });
    expect(ids.body.results.map((r: { id: string }) => r.id).sort()).toEqual(['a1', 'b1']);
    const sel = await h.req('POST', `/data/${DT}/_changes?filter=_selector&include_docs=true`, { token, body: { selector: { id: { $gt: 'a2' } } } });
    expect(sel.body.results.map((r: { id: string }) => r.id).sort()).toEqual(['a3', 'b1']);
    const now = await h.req('GET', `/data/${DT}/_changes?since=now`, { token });
    expect(now.body.results).toEqual([]);
    expect((await h.req('GET', `/data/${DT}/_changes?since=garbage`, { token })).status).toBe(400);
    expect((await h.req('GET', `/data/${DT}/_changes?filter=mine/custom`, { token })).status).toBe(501);
  });

  it('longpoll waits for the next write', async () => {
    const now = await h.req('GET', `/data/${DT}/_changes?since=now`, { token });
    const waiting = h.req('GET', `/data/${DT}/_changes?feed=longpoll&since=${now.body.last_seq}&timeout=10000&heartbeat=2000`, { token });
    await new Promise((r) => setTimeout(r, 200));
    await h.req('PUT', `/data/${DT}/late`, { token, body: { late: true } });
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { id: string }) => r.id)).toEqual(['late']);
  });

  it('longpoll times out with an empty result', async () => {
    const res = await h.req('GET', `/data/${DT}/_changes?feed=longpoll&since=now&timeout=300`, { token });
    expect(res.body.results).toEqual([]);
  });

  it('continuous and eventsource stream rows then end at the timeout', async () => {
    const cont = await h.req('GET', `/data/${DT}/_changes?feed=continuous&timeout=300&limit=3`, { token });
    const lines = cont.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 3).every((l) => typeof l.seq === 'string')).toBe(true);
    const es = await h.req('GET', `/data/${DT}/_changes?feed=eventsource&timeout=300&limit=2`, { token });
    expect(es.headers['content-type']).toContain('text/event-stream');
    expect(es.text.match(/^data: /gm)).toHaveLength(2);
  });

  it('restarts from 0 when the doctype was dropped and re-created', async () => {
    const before = await h.req('GET', `/data/${DT}/_changes`, { token });
    expect((await h.req('DELETE', `/data/${DT}/`, { token })).status).toBe(200);
    await h.req('PUT', `/data/${DT}/fresh`, { token, body: {} });
    const after = await h.req('GET', `/data/${DT}/_changes?since=${before.body.last_seq}`, { token });
    expect(after.body.results.map((r: { id: string }) => r.id)).toEqual(['fresh']);
  });
});
