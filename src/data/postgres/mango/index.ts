/** Mango _find on PostgreSQL: the public surface of src/data/postgres/mango (what the PostgreSQL DocStore calls). */
export { installMangoFunctions } from './functions.js';
export { pgIndexSql } from './plan.js';
export { pgRunFind, pgRunCount, pgExplainFind, pgCompileSelector, pgFindSql } from './find.js';
