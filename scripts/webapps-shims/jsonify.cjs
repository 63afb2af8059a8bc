/** `jsonify` (a JSON implementation for engines without one, which json-stable-stringify requires) as the browser's JSON. */
'use strict';
module.exports = JSON;
