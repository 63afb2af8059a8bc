/**
 * `side-channel` for the browser bundles of the built-in apps (scripts/build-webapps.mjs aliases it here): the same API
 * (getSideChannel() -> assert/get/has/set/delete) on a Map, without object-inspect and side-channel-list/-map/-weakmap
 * that qs (through cozy-stack-client) brings for it: about 20 KB of minified JavaScript. qs uses it only to detect
 * cycles while it stringifies one object.
 */
'use strict';
module.exports = function getSideChannel() {
  var map = new Map();
  return {
    assert: function (key) { if (!map.has(key)) throw new TypeError('Side channel does not contain the key'); },
    get: function (key) { return map.get(key); },
    has: function (key) { return map.has(key); },
    set: function (key, value) { map.set(key, value); },
    delete: function (key) { return map.delete(key); },
  };
};
