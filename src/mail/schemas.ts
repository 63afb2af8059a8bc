/** The schemas of the admin port's dev outbox routes (admin-routes.ts), for `hearth mails ls|show`. */
import { content, params, type RouteSchema } from '../common/schemas.js';

const tags = ['mails'];
const summary = {
  type: 'object', additionalProperties: true,
  properties: { id: { type: 'string' }, domain: { type: 'string' }, messageId: { type: 'string' }, to: { type: 'array', items: { type: 'string' } }, subject: { type: 'string' }, date: { type: 'string' } },
};

export const list: RouteSchema = {
  summary: 'The mails of the dev outbox (mail.mode outbox), oldest first', tags,
  response: { 200: { description: 'The outbox folder and its mails', type: 'object', properties: { dir: { type: 'string' }, mails: { type: 'array', items: summary } } } },
};
export const read: RouteSchema = {
  summary: 'One mail of the dev outbox, as sent (RFC 822)', tags,
  params: params({ id: 'The mail\'s id, as listed (e.g. 20260102T030405678Z-1a2b3c4d5e6f)' }),
  response: { 200: content('The mail', ['message/rfc822']) },
};
