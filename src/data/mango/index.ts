/** Mango _find on SQLite: the public surface of src/data/mango. */
export { parseFindRequest, parseIndexRequest, DEFAULT_LIMIT, MAX_LIMIT } from './parse.js';
export { registerSqlFunctions } from './sql.js';
export { indexSql } from './plan.js';
export { runFind, runCount, explainFind, compileSelector } from './find.js';
export { encodeKey } from './collate-key.js';
export type * from './types.js';
