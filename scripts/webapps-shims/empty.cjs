/** For a polyfill every browser the apps target has natively (url-search-params-polyfill: URLSearchParams). */
'use strict';
