// The CommonJS modules cozy-realtime requires that cost the most to evaluate: lodash's isEqual and its internals
// here, the logger in realtime-log.ts, each evaluated by a chunk of its own (realtime.ts imports them a task apart,
// before cozy-realtime's): on a phone, one task of about 200 ms becomes three shorter ones. Each is exported so that the bundler keeps it (a bare
// import of a package without side effects would be dropped).
export { default as isEqual } from 'lodash/isEqual';
export { default as pick } from 'lodash/pick';
export { default as pullAt } from 'lodash/pullAt';
export { default as remove } from 'lodash/remove';
export { default as uniqWith } from 'lodash/uniqWith';
export { default as has } from 'lodash/has';
