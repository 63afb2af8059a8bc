/** The dev outbox, <dataDir>/outbox/: `<id>.eml` (the MIME message) and `<id>.json` (its summary). */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadRequest, NotFound } from '../common/errors.js';

/** `instanceId`: the instance that sent it (null in the summaries written before it was recorded). */
export interface OutboxSummary { id: string; domain: string; instanceId: string | null; messageId: string; to: string[]; subject: string; date: string }

const ID = /^\d{8}T\d{9}Z-[0-9a-f]{12}$/;

export const outboxDir = (dataDir: string): string => join(dataDir, 'outbox');

/** A timestamp (so that names sort by date) and 48 random bits: "20260102T030405678Z-1a2b3c4d5e6f". */
export function newOutboxId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}`;
}

/** The summaries, oldest first, or null when the outbox does not exist. */
export async function listOutbox(dir: string): Promise<OutboxSummary[] | null> {
  if (!existsSync(dir)) return null;
  const names = (await readdir(dir)).filter((n) => n.endsWith('.json') && ID.test(n.slice(0, -5))).sort();
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(dir, n), 'utf8')) as OutboxSummary));
}

/**
 * The mails `instance` sent: by its id, so that a new instance of a reused domain (or the dev instance named on
 * another port) lists its own mails only; a summary without an instance id goes by its domain.
 */
export function mailsOf(mails: OutboxSummary[], instance: { id: string; domain: string }): OutboxSummary[] {
  return mails.filter((m) => (m.instanceId ? m.instanceId === instance.id : m.domain === instance.domain));
}

/** The raw `.eml` of mail `id` (an id as listed; anything else is refused, so no path can be smuggled in). */
export async function readOutboxMail(dir: string, id: string): Promise<Buffer> {
  if (!ID.test(id)) throw new BadRequest(`"${id}" is not an outbox mail id (see \`hearth mails ls\`)`);
  const file = join(dir, `${id}.eml`);
  if (!existsSync(file)) throw new NotFound(`no mail ${id} in ${dir}`);
  return readFile(file);
}
