/** The schemas of the e-mail change routes (email-routes.ts). */
import { content, noContent, query, str, type RouteSchema } from '../common/schemas.js';
import { EMAIL_RE } from './validate.js';

const tags = ['settings'];

export const startEmail: RouteSchema = {
  summary: 'Starts a change of the owner\'s e-mail address: checks the passphrase, mails a confirmation link to the new address', tags,
  description: 'A wrong passphrase is a 400 "Invalid passphrase". The address changes only when the link is opened (GET /settings/email/confirm).',
  body: {
    type: 'object', required: ['passphrase', 'email'], additionalProperties: true,
    properties: {
      passphrase: str('The passphrase, derived as for the login', { minLength: 1, maxLength: 1024, errorMessage: '"passphrase" must be the derived passphrase (as the login sends it)' }),
      email: { type: 'string', maxLength: 254, pattern: EMAIL_RE, example: 'alice@example.org', errorMessage: '"email" must be a mail address such as alice@example.org' },
    },
    errorMessage: { required: 'send {"passphrase": "…", "email": "…"}', type: 'send {"passphrase": "…", "email": "…"}' },
    example: { passphrase: 'kJ9x…=', email: 'alice@example.org' },
  },
  response: { 204: noContent('The confirmation link is mailed to the new address') },
};

export const resendEmail: RouteSchema = {
  summary: 'Mails a new confirmation link to the pending address (400 "no pending email" when there is none)', tags,
  response: { 204: noContent('Mailed') },
};

export const cancelEmail: RouteSchema = {
  summary: 'Forgets the pending address: its link no longer works (204 when none was pending too)', tags,
  response: { 204: noContent('Done') },
};

export const confirmEmail: RouteSchema = {
  summary: 'The link of the confirmation mail: makes the pending address the owner\'s e-mail, then redirects to Settings', tags,
  description: 'Without a session: to the login page, back here after it. An expired, replaced or unknown token: an HTML error page (400).',
  querystring: query({ token: 'The token of the mailed link' }),
  response: {
    307: noContent('Confirmed: to the Settings app (Location)'), 303: noContent('Not logged in: to the login page (Location)'),
    400: content('The link is expired or invalid', ['text/html']),
  },
};
