/** vitest setup file of the `redis` project: names its server to testConfig (see redis-global.ts). */
import { inject } from 'vitest';
import './redis-global.js';

process.env.TEST_REDIS_URL = inject('TEST_REDIS_URL');
