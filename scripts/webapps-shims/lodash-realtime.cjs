/**
 * The six lodash functions cozy-realtime calls (SubscriptionList.js, utils.js), for the browser bundles of the built-in
 * apps: scripts/build-webapps.mjs resolves `lodash/<name>` to these when cozy-realtime imports it (cozy-client keeps
 * lodash). Each has lodash's behaviour for the arguments cozy-realtime gives (subscriptions: flat objects of strings
 * and a handler function); lodash's own modules brought its generic internals (Stack, MapCache, the native-function
 * probes), evaluated in one task of 45–70 ms on a phone. Deep equality is dequal's (`dequal/lite`).
 */
'use strict';
const { dequal } = require('dequal/lite');

const hasOwn = Object.prototype.hasOwnProperty;

/** `_.has(object, path)`: own properties along a dotted path (a key that exists as a whole is one key). */
function has(object, path) {
  if (object == null) return false;
  const keys = Array.isArray(path) ? path : typeof path === 'string' && !(path in Object(object)) ? path.split('.') : [path];
  let o = object;
  for (const key of keys) {
    if (o == null || !hasOwn.call(o, key)) return false;
    o = o[key];
  }
  return true;
}

/** `_.pick(object, keys)`: the keys present in the object (own or inherited), in the order asked. */
function pick(object, keys) {
  const out = {};
  if (object == null) return out;
  for (const key of [].concat(keys)) if (key in Object(object)) out[key] = object[key];
  return out;
}

/** `_.pullAt(array, ...indexes)`: removes the elements at the indexes, returns them (in the order asked). */
function pullAt(array, ...indexes) {
  const at = [].concat(...indexes);
  const removed = at.map((i) => array[i]);
  for (const i of [...new Set(at)].sort((a, b) => b - a)) if (i >= 0 && i < array.length) array.splice(i, 1);
  return removed;
}

/** `_.remove(array, predicate)`: removes the elements the predicate is true of, returns them. */
function remove(array, predicate) {
  const removed = [];
  if (!array || !array.length) return removed;
  const kept = [];
  array.forEach((value, index) => (predicate(value, index, array) ? removed : kept).push(value));
  array.length = 0;
  array.push(...kept);
  return removed;
}

/** `_.uniqWith(array, comparator)`: the first of each group of equal elements, in order. */
function uniqWith(array, comparator) {
  const out = [];
  for (const value of array || []) if (!out.some((o) => comparator(value, o))) out.push(value);
  return out;
}

module.exports = { isEqual: (a, b) => dequal(a, b), has, pick, pullAt, remove, uniqWith };
