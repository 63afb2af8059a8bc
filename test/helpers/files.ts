/** Small helpers for the /files HTTP tests: create directories and upload files, asserting success. */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { Res, TestHearth } from './hearth.js';

export const ROOT = 'io.cozy.files.root-dir';
export const TRASH = 'io.cozy.files.trash-dir';

export const md5 = (content: string | Buffer): string => createHash('md5').update(content).digest('base64');

/** The query string of a name, encoded for any character. */
export const q = (name: string): string => encodeURIComponent(name);

export interface Created {
  id: string;
  rev: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  attributes: any;
}

function created(res: Res): Created {
  expect(res.status, res.text).toBe(201);
  return { id: res.body.data.id, rev: res.body.data.meta.rev, attributes: res.body.data.attributes };
}

export async function mkdir(h: TestHearth, token: string, parent: string, name: string): Promise<Created> {
  return created(await h.req('POST', `/files/${parent}?Type=directory&Name=${q(name)}`, { token }));
}

export async function upload(h: TestHearth, token: string, parent: string, name: string, content: string | Buffer, headers: Record<string, string> = {}): Promise<Created> {
  return created(await h.req('POST', `/files/${parent}?Type=file&Name=${q(name)}`, { token, raw: content, headers }));
}
