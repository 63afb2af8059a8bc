// The CommonJS modules cozy-realtime requires that cost the most to evaluate (lodash's isEqual and its internals,
// the logger), evaluated by a chunk of their own (realtime.ts imports it a task before cozy-realtime's): on a
// phone, one task of about 65 ms becomes two shorter ones. Each is exported so that the bundler keeps it (a bare
// import of a package without side effects would be dropped).
export { default as isEqual } from 'lodash/isEqual';
export { default as pick } from 'lodash/pick';
export { default as pullAt } from 'lodash/pullAt';
export { default as remove } from 'lodash/remove';
export { default as uniqWith } from 'lodash/uniqWith';
export { default as has } from 'lodash/has';
export { default as minilog } from '@cozy/minilog';
