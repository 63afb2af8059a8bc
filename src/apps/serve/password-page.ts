/**
 * The page of a password-protected share link (§2 step 10): 401, a form whose script posts the password to the
 * instance's `/auth/share-by-link/password` (which sets the `pass<perm id>` cookie), then reloads the link.
 * Its own CSP: only its nonce'd script, and requests to the instance.
 */
import type { FastifyReply } from 'fastify';
import { randomBytes } from 'node:crypto';
import { escapeHtml } from './template.js';

export function passwordPage(reply: FastifyReply, r: { instanceHost: string }, scheme: string, permId: string): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const api = `${scheme}://${r.instanceHost}`;
  const script = `document.getElementById('f').addEventListener('submit',async(e)=>{e.preventDefault();`
    + `const r=await fetch(${JSON.stringify(`${api}/auth/share-by-link/password`).replace(/</g, '\\u003c')},{method:'POST',credentials:'include',body:new URLSearchParams(new FormData(e.target))});`
    + `if(r.ok)location.reload();else document.getElementById('err').hidden=false;});`;
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Password</title></head>
<body><form id="f" method="post" action="${escapeHtml(`${api}/auth/share-by-link/password`)}"><p>This link is protected by a password.</p>
<input type="hidden" name="perm_id" value="${escapeHtml(permId)}"><label>Password <input type="password" name="password" autofocus required></label>
<button type="submit">Open</button><p id="err" hidden>Wrong password.</p></form><script nonce="${nonce}">${script}</script></body></html>`;
  return reply.code(401)
    .header('Content-Security-Policy', `default-src 'none'; script-src 'nonce-${nonce}'; connect-src ${api}; form-action ${api}; base-uri 'none'; frame-ancestors 'none'`)
    .header('Cache-Control', 'private, no-store').type('text/html; charset=UTF-8').send(html);
}
