/** The schemas of /jobs (routes.ts) and of the admin API's jobs routes (admin-routes.ts): validation, OpenAPI, serialization. */
import { content, JSONAPI, noContent, openObject, params, query, rawBody, resource, type JsonSchema, type RouteSchema } from '../common/schemas.js';
import { JOBS_DOCTYPE, TRIGGERS_DOCTYPE } from './types.js';

const tags = ['jobs'];
const JSONAPI_BODY = 'the body must be JSON-API: {"data": {"attributes": {…}}}';

const jobOptions: JsonSchema = {
  type: ['object', 'null'],
  properties: { timeout: { type: 'number', description: 'Seconds before the run is aborted' }, max_exec_count: { type: 'number', description: 'Tries (with a backoff)' } },
  additionalProperties: true,
  errorMessage: 'options must be an object {timeout, max_exec_count}',
};

/** A JSON-API body `{data: {attributes}}` (type, id, meta and other fields as clients send them). */
const jsonApiBody = (attributes: JsonSchema, example: unknown): JsonSchema => ({
  type: 'object', required: ['data'], errorMessage: JSONAPI_BODY, example,
  properties: { data: { type: 'object', required: ['attributes'], properties: { attributes: { type: 'object', additionalProperties: true, ...attributes } } } },
});

// attributes pass through: a job's arguments and a trigger's message are the caller's JSON
const job = resource(JOBS_DOCTYPE, openObject('worker, state, arguments, options, queued_at, started_at, finished_at, error, trigger_id…'));
const trigger = resource(TRIGGERS_DOCTYPE, openObject('type, arguments, worker, message, options, debounce, current_state'));
/** Answers in application/vnd.api+json (the scope's onSend sets it): documented, serialized by JSON.stringify. */
const answer = (description: string, data: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({
  description, content: { [JSONAPI]: { schema: { type: 'object', properties: { data, ...extra }, additionalProperties: true } } },
});
const list = (description: string, item: JsonSchema) => answer(description, { type: 'array', items: item }, { meta: { type: 'object', properties: { count: { type: 'number' } } } });

export const queueJob: RouteSchema = {
  summary: 'Queues a job (needs io.cozy.jobs POST on this worker): 202 and the job', tags,
  params: params(['worker']),
  body: jsonApiBody({ properties: { arguments: { description: 'The worker\'s arguments (any JSON)' }, options: jobOptions, manual: { type: 'boolean' } } }, { data: { attributes: { arguments: { to: 'me' }, options: { timeout: 60 } } } }),
  response: { 202: answer('The queued job', job) },
};
export const queuedJobs: RouteSchema = { summary: 'The queued jobs of a worker', tags, params: params(['worker']), response: { 200: list('The queued jobs', job) } };
export const purge: RouteSchema = {
  summary: 'Deletes finished jobs older than a duration', tags,
  querystring: query({
    duration: { type: 'string', pattern: '^\\d{1,4}[DWMY]$', description: 'How old, e.g. 2M (default) or 1W', errorMessage: 'duration must be a number and a unit: D (days), W (weeks), M (months) or Y (years), such as 2M' },
    workers: 'Comma-separated workers (default all)',
  }),
  response: { 200: { description: 'How many were deleted', type: 'object', properties: { deleted: { type: 'number' } } } },
};
export const getJob: RouteSchema = { summary: 'Reads a job', tags, params: params(['id']), response: { 200: answer('The job', job) } };
export const jobLogs: RouteSchema = {
  summary: 'What a past run printed (Hearth\'s: the last lines of the last runs of each trigger are kept)', tags, params: params(['id']),
  response: { 200: answer('The lines (type, message, time) and how many earlier ones were dropped', resource('io.cozy.jobs.logs', openObject('lines, dropped'))) },
};
export const patchJob: RouteSchema = {
  summary: 'A client reports the end of the job it ran (@client triggers): done or errored', tags, params: params(['id']),
  body: jsonApiBody({ required: ['state'], properties: { state: { enum: ['done', 'errored'], errorMessage: 'state must be "done" or "errored"' }, error: { description: 'Why it failed' } } }, { data: { attributes: { state: 'errored', error: 'LOGIN_FAILED' } } }),
  response: { 200: answer('The job as ended', job) },
};
export const webhook: RouteSchema = {
  summary: 'Fires a @webhook trigger (no token; a JSON body becomes the job\'s payload)', tags, params: params(['id']),
  querystring: query({ Manual: 'true to mark the run as manual' }),
  body: rawBody('Any JSON, or nothing (at most 256 KiB; any content type)', ['application/json']),
  response: { 204: noContent('The job is queued') },
};
export const createTrigger: RouteSchema = {
  summary: 'Creates a trigger (@at, @in, @every, @cron, @event, @webhook, @client…)', tags,
  body: jsonApiBody({
    properties: {
      type: { type: 'string', example: '@cron' }, arguments: { type: 'string', example: '0 0 3 * * *' }, worker: { type: 'string', example: 'log' },
      debounce: { type: 'string' }, options: jobOptions,
    },
  }, { data: { attributes: { type: '@cron', arguments: '0 0 3 * * *', worker: 'log', message: 'nightly' } } }),
  response: { 201: answer('The trigger', trigger) },
};
export const listTriggers: RouteSchema = {
  summary: 'Lists the triggers', tags,
  querystring: query({ Worker: 'Comma-separated workers', Type: 'Comma-separated trigger types' }),
  response: { 200: list('The triggers the token may read', trigger) },
};
export const getTrigger: RouteSchema = { summary: 'Reads a trigger', tags, params: params(['id']), response: { 200: answer('The trigger', trigger) } };
export const triggerState: RouteSchema = {
  summary: 'The current state of a trigger (last runs, last error)', tags, params: params(['id']),
  response: { 200: answer('Its state', resource('io.cozy.triggers.state', openObject('trigger_id, status, last_success, last_error…'))) },
};
export const triggerJobs: RouteSchema = {
  summary: 'The last jobs of a trigger', tags, params: params(['id']),
  querystring: query({ Limit: 'At most this many jobs (1 to 1000, default 100)' }),
  response: { 200: list('Its last jobs', job) },
};
export const patchTrigger: RouteSchema = {
  summary: 'Changes a trigger\'s arguments or message', tags, params: params(['id']),
  body: jsonApiBody({ properties: { type: { type: 'string' }, arguments: { type: 'string' } } }, { data: { attributes: { arguments: '0 0 4 * * *' } } }),
  response: { 200: answer('The trigger as changed', trigger) },
};
export const launchTrigger: RouteSchema = { summary: 'Runs a trigger\'s job now', tags, params: params(['id']), response: { 201: answer('The job (null if none was queued)', { ...job, nullable: true }) } };
export const deleteTrigger: RouteSchema = { summary: 'Deletes a trigger', tags, params: params(['id']), response: { 204: noContent('Deleted') } };

// ---- admin API ----------------------------------------------------------------------------------

const adminTags = ['admin'];
const domain = { domain: 'The instance\'s domain' };
export const adminQueue: RouteSchema = {
  summary: 'Queues a job of any worker (internal ones included)', tags: adminTags,
  params: params({ ...domain, worker: 'The worker name' }),
  body: {
    type: ['object', 'null'], errorMessage: 'the body must be {"arguments": …, "options": {…}}',
    properties: { arguments: { description: 'The worker\'s arguments' }, options: jobOptions, manual: { type: 'boolean' } }, additionalProperties: true,
  },
  response: { 202: { description: 'The queued job', type: 'object', properties: { data: job } } },
};
export const adminJob: RouteSchema = { summary: 'Reads a job', tags: adminTags, params: params({ ...domain, id: 'The job id' }), response: { 200: { description: 'The job', type: 'object', properties: { data: job } } } };
export const adminJobEvents: RouteSchema = {
  summary: 'Follows a job: its states and what it emits, one JSON object per line, until it ends', tags: adminTags,
  params: params({ ...domain, id: 'The job id' }),
  response: { 200: content('NDJSON lines {type: job|log, …}', ['application/x-ndjson']) },
};
export const adminTriggers: RouteSchema = {
  summary: 'Lists the triggers of an instance', tags: adminTags, params: params(domain),
  querystring: query({ worker: 'Comma-separated workers', type: 'Comma-separated trigger types' }),
  response: { 200: { description: 'The triggers', type: 'object', properties: { data: { type: 'array', items: trigger }, meta: { type: 'object', properties: { count: { type: 'number' } } } } } },
};
export const adminLaunch: RouteSchema = {
  summary: 'Runs a trigger\'s job now', tags: adminTags, params: params({ ...domain, id: 'The trigger id' }),
  response: { 201: { description: 'The job (null if none was queued)', type: 'object', properties: { data: { ...job, nullable: true } } } },
};
