/** Child of the code store's crash test: starts writing a version into `<argv[2]>`, says `writing`, then hangs until killed. */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalAppCodeStore } from '../../src/apps/code/local-store.js';
import { sha } from './app-code-store-suite.js';

const dir = process.argv[2] ?? '.';
const store = new LocalAppCodeStore({ dir: join(dir, 'apps-code'), dbFile: join(dir, 'apps-code.sqlite') });
await store.acquire({ instanceId: 'i1', kind: 'webapp', slug: 'drive', sha256: sha('crash') }, async (add) => {
  await add('index.html', Readable.from([Buffer.from('<html></html>')]));
  process.stdout.write('writing\n');
  await new Promise(() => setInterval(() => undefined, 1000));
});
