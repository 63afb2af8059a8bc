/**
 * The schemas of a move's routes (OpenAPI; server/validation.ts). The pages and forms answer their refusals with a
 * page, so their fields are documented here and checked by the routes.
 */
import { content, noContent, passThrough, query, type JsonSchema, type RouteSchema } from '../../common/schemas.js';

const tags = ['move'];
const html = (description: string) => content(description, ['text/html']);
const redirect = (description: string) => noContent(`${description} (Location)`);
const field = (description: string): JsonSchema => ({ description });
const form = (properties: Record<string, JsonSchema>): JsonSchema => ({ description: 'A form (application/x-www-form-urlencoded) or JSON', properties, additionalProperties: true });
const ERROR = passThrough('{error, message}');
const byPeer = 'a move token of this instance (POST on io.cozy.imports)';

export const authorizeMovePage: RouteSchema = {
  summary: 'The target\'s consent to a move (HTML): its passphrase', tags: ['auth'],
  querystring: query({ state: 'The wizard\'s state', client_id: 'The wizard\'s OAuth client on this instance', redirect_uri: 'One of that client\'s redirect URIs' }),
  response: { 200: html('The passphrase page'), 303: redirect('To the login page first when two-factor authentication is on'), 400: html('A page saying what is wrong') },
};
export const authorizeMove: RouteSchema = {
  summary: 'Accepts a move into this instance with its passphrase: {redirect} to the client with an access code (scope io.cozy.exports.requests io.cozy.imports)', tags: ['auth'],
  body: form({ passphrase: field('The derived passphrase'), state: field('As on the page'), client_id: field('As on the page'), redirect_uri: field('As on the page') }),
  response: { 200: passThrough('{redirect}'), 400: ERROR, 401: ERROR, 429: ERROR },
};
export const moveAuthorize: RouteSchema = {
  summary: 'An access code for the move service (fake client `move`, scope io.cozy.exports.requests), logged in', tags,
  querystring: query({ state: 'The service\'s state', redirect_uri: 'Where to send the code (http or https)' }),
  response: { 303: redirect('To redirect_uri with state, code, vault, used, quota; or to the login page'), 400: html('A page saying what is wrong') },
};
export const initialize: RouteSchema = {
  summary: 'Starts a move from the settings (form, logged in): a move client and code, then the wizard (307 to move.url)', tags,
  response: { 307: redirect('To the wizard'), 401: html('Not logged in'), 403: html('Not from this instance\'s pages') },
};
export const request: RouteSchema = {
  summary: 'Asks for a move (form): mails the confirmation link to the owner', tags,
  body: form({
    code: field('The code of /move/initialize or /move/authorize'), token: field('Or a move token'), client_id: field('With the token'), client_secret: field('With the token'),
    target_url: field('The target instance'), target_token: field('A move token of the target'), target_client_id: field('The wizard\'s client on the target'), target_client_secret: field('Its secret'),
  }),
  response: { 200: html('Check your mail'), 400: html('What is wrong') },
};
export const go: RouteSchema = {
  summary: 'Starts a confirmed move (the mailed link, logged in): blocks the target, queues the export, to the target\'s waiting page', tags,
  querystring: query({ secret: 'The secret of the mailed link' }),
  response: { 303: redirect('To the target\'s /move/importing, or to the login page'), 400: html('What is wrong') },
};
export const importing: RouteSchema = {
  summary: 'The source says the move starts (target side): logs out every session and blocks this instance (moving)', tags,
  querystring: query({ source: 'The source instance\'s domain' }),
  response: { 204: noContent('Blocked, waiting for the data'), 400: ERROR, 403: ERROR, 409: ERROR },
};
export const finalize: RouteSchema = {
  summary: `The target imported everything (source side, ${byPeer}): konnector triggers deleted, OAuth clients revoked, instance moved`, tags,
  querystring: query({ subdomain: 'flat or nested: the target\'s app addresses' }),
  response: { 204: noContent('Moved: this instance now answers 410 with the new address'), 403: ERROR },
};
export const abort: RouteSchema = {
  summary: `The move failed on the other side (${byPeer}): this instance is unblocked`, tags,
  response: { 204: noContent('Unblocked'), 403: ERROR },
};
export const vault: RouteSchema = {
  summary: 'After a move (target side, logged in): why passwords did not move (HTML)', tags,
  response: { 200: html('The explanation'), 303: redirect('To the login page') },
};
export const wizardStart: RouteSchema = {
  summary: 'Hearth\'s move wizard (HTML, logged in): the target\'s address', tags,
  querystring: query({ client_id: 'The move client of /move/initialize', client_secret: 'Its secret', code: 'The move code', used: 'Bytes used', cozy_url: 'This instance' }),
  response: { 200: html('The wizard'), 303: redirect('To the login page'), 400: html('What is wrong') },
};
export const wizardTarget: RouteSchema = {
  summary: 'The wizard registers a client on the target and sends the browser to its consent page', tags,
  body: form({ target: field('The target\'s address') }),
  response: { 303: redirect('To https://<target>/auth/authorize/move'), 400: html('The wizard again, with what is wrong') },
};
export const wizardCallback: RouteSchema = {
  summary: 'The target accepted: the wizard takes its token and shows the summary that asks for the confirmation mail', tags,
  querystring: query({ state: 'The wizard\'s state', code: 'The target\'s access code', used: 'Bytes used on the target', quota: 'The target\'s quota' }),
  response: { 200: html('The summary'), 400: html('What is wrong') },
};
