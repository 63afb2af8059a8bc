import { pgMango, postgresForFile } from '../../../../test/helpers/mango-engines.js';
import { mangoPropertyTest } from '../../../../test/helpers/mango-property.js';

const url = postgresForFile();
mangoPropertyTest('PostgreSQL', () => pgMango(url(), 'mango_property'), 400);
