/**
 * Each built-in app holds only the rights its manifest declares (issue 15): the token its page gets (the `data-cozy` of
 * its index, served to the owner's session) reads a doctype its installed manifest grants, and is refused (403) one it
 * does not grant. The manifests are read from the installed apps at test time, so the test follows their changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerCookie } from '../helpers/apps.js';
import { rawRequest } from '../helpers/hearth.js';
import { BUILTIN_SLUGS, startWithWebapps, type WebappsHearth } from '../helpers/webapps.js';

interface Rule { type: string; verbs?: string[]; values?: string[]; selector?: string }

/** Doctypes some app may be refused, in the order they are tried. */
const CANDIDATES = ['io.cozy.files', 'io.cozy.accounts', 'io.cozy.contacts', 'io.cozy.settings', 'io.cozy.apps', 'io.cozy.notifications', 'io.cozy.bank.operations'];

let w: WebappsHearth;
let cookie: string;
beforeAll(async () => {
  w = await startWithWebapps({ label: 'refusals' });
  ({ cookie } = await ownerCookie(w.h, w.instance));
}, 120_000);
afterAll(async () => {
  await w?.close();
});

const unescape = (s: string) => s.replace(/&#(\d+);/g, (_m, n: string) => String.fromCharCode(Number(n))).replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The token the app's page gets: its index served to the owner's session. */
async function pageToken(slug: string): Promise<string> {
  const page = await rawRequest(w.h.port, 'GET', '/', { host: `${slug}.${w.domain}`, headers: { cookie, accept: 'text/html' } });
  expect(page.status).toBe(200);
  const data = /data-cozy="([^"]*)"/.exec(page.text)?.[1];
  const token = (JSON.parse(unescape(data ?? '{}')) as { token?: string }).token;
  if (!token) throw new Error(`${slug}'s page holds no token`);
  return token;
}

const covers = (rule: Rule, doctype: string) => rule.type === doctype || (rule.type.endsWith('.*') && doctype.startsWith(rule.type.slice(0, -1)));
const reads = (rule: Rule) => !rule.verbs || rule.verbs.length === 0 || rule.verbs.includes('ALL') || rule.verbs.includes('GET');

describe('the built-in apps\' rights', () => {
  it.each(BUILTIN_SLUGS)('%s reads what its manifest grants and is refused what it does not', async (slug) => {
    const manifest = (await w.api('GET', `/apps/${slug}`, await w.token('io.cozy.apps'))).body.data.attributes as { permissions?: Record<string, Rule> };
    const rules = Object.values(manifest.permissions ?? {});
    const token = await pageToken(slug);
    const get = (doctype: string) => rawRequest(w.h.port, 'GET', `/data/${doctype}/_all_docs?limit=1`, { host: w.domain, token, headers: { cookie } });

    const refused = CANDIDATES.find((d) => !rules.some((r) => covers(r, d)));
    expect(refused, `${slug} is granted every doctype tried`).toBeDefined();
    const no = await get(refused!);
    expect(no.status, `${slug} reading ${refused}`).toBe(403);

    const granted = rules.find((r) => reads(r) && !r.values && !r.selector && !r.type.endsWith('.*'));
    if (granted) {
      const yes = await get(granted.type);
      expect(yes.status, `${slug} reading ${granted.type}: ${yes.text}`).toBe(200);
    } else {
      // no whole doctype to read: an app that only writes, or reads some documents; still none of the others
      expect(rules.length).toBeGreaterThan(0);
    }
  });
});
