/** vitest setup file of the scale-out projects on PostgreSQL: names their server to testConfig (see postgres-global.ts). */
import { inject } from 'vitest';
import './postgres-global.js';

process.env.TEST_PG_URL = inject('TEST_PG_URL');
