/**
 * cozy-stack's io.cozy.websocket messages (docs/realtime.md, web/realtime/realtime.go): the client's
 * commands as the stack decodes them, and the error events it sends, with cozy's status, code and
 * title (clients match on them) plus a `detail` saying what to do instead.
 */

/** The first message, decoded as cozy-stack does (a map of strings): `{"method":"AUTH","payload":"<token>"}`. */
export interface AuthMessage {
  method: string;
  token: string;
  /** The message as cozy-stack echoes it in `source`: its string members. */
  source: Record<string, string>;
}

/** A later message, as cozy-stack's `command` struct (the `source` of its errors). */
export interface Command {
  method: string;
  payload: { type: string; id: string };
}

export interface WsError {
  event: 'error';
  payload: { status: string; code: string; title: string; detail?: string; source: unknown };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function parseAuth(text: string): AuthMessage {
  const o = parseObject(text) ?? {};
  const source: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === 'string') source[k] = v;
  return { method: source.method ?? '', token: source.payload ?? '', source };
}

const optString = (v: unknown): string | null => (v === undefined || v === null ? '' : typeof v === 'string' ? v : null);

/** A command, or null when the message is not one (not JSON, or members of the wrong type): cozy-stack then hangs up. */
export function parseCommand(text: string): Command | null {
  const o = parseObject(text);
  if (!o) return null;
  const method = optString(o.method);
  const p = o.payload;
  if (method === null || (p !== undefined && p !== null && (typeof p !== 'object' || Array.isArray(p)))) return null;
  const payload = (p ?? {}) as Record<string, unknown>;
  const type = optString(payload.type);
  const id = optString(payload.id);
  if (type === null || id === null) return null;
  return { method, payload: { type, id } };
}

function error(status: string, code: string, title: string, detail: string, source: unknown): WsError {
  return { event: 'error', payload: { status, code, title, detail, source } };
}

export const unauthorized = (source: unknown, detail: string): WsError =>
  error('401 Unauthorized', 'unauthorized', 'The authentication has failed', detail, source);

export const forbidden = (cmd: Command): WsError =>
  error('403 Forbidden', 'forbidden', `The application can't subscribe to ${cmd.payload.type}`,
    `this token needs the GET right on ${cmd.payload.type}${cmd.payload.id ? ` (or on the document ${cmd.payload.id})` : ''}`, cmd);

export const unknownMethod = (method: string, source: unknown, expected: string): WsError =>
  error('405 Method Not Allowed', 'method not allowed', `The ${method} method is not supported`, `send ${expected}`, source);

export const missingType = (cmd: Command): WsError =>
  error('404 Page Not Found', 'page not found', 'The type parameter is mandatory for SUBSCRIBE', 'send {"method":"SUBSCRIBE","payload":{"type":"<doctype>"[,"id":"<id>"]}}', cmd);

/** Hearth: a message that is not a command (cozy-stack closes the connection without a word). */
export const badCommand = (text: string): WsError =>
  error('400 Bad Request', 'bad request', 'The message is not a command', 'send JSON such as {"method":"SUBSCRIBE","payload":{"type":"<doctype>"}}; the connection is closed', text);

/** Hearth: a connection holds at most so many subscriptions (doctypes and ids). */
export const tooManySubscriptions = (cmd: Command, max: number): WsError =>
  error('429 Too Many Requests', 'too many subscriptions', `A connection can hold at most ${max} subscriptions`,
    'UNSUBSCRIBE from some, subscribe to the whole doctype instead of many ids, or open another connection', cmd);
