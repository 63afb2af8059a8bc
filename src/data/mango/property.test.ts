import { sqliteMango } from '../../../test/helpers/mango-engines.js';
import { mangoPropertyTest } from '../../../test/helpers/mango-property.js';

mangoPropertyTest('SQLite', sqliteMango, 4000);
