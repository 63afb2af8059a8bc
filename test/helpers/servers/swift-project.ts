/**
 * setupFiles of the object-storage projects: the project's store (TEST_OBJECT_STORE: swift or s3) becomes the blobs
 * under test, once the Swift server that swift-global.ts started answers (every one of its servers: a PUT right after
 * the proxy alone came up got a 503).
 */
import { healthy } from './swift.js';

const store = process.env.TEST_OBJECT_STORE;
const blobs = store === 'swift' ? process.env.TEST_BLOBS_SWIFT : store === 's3' ? process.env.TEST_BLOBS_S3 : undefined;
if (!blobs) throw new Error(`TEST_OBJECT_STORE=${store ?? ''}: expected swift or s3, with the Swift server of test/helpers/servers/swift-global.ts`);
const urls = JSON.parse(process.env.TEST_SWIFT_HEALTH ?? '[]') as string[];
for (const url of urls) {
  for (const until = Date.now() + 240_000; !(await healthy(url));) {
    if (Date.now() > until) throw new Error(`the tests' Swift server did not answer at ${url} (its logs: TEST_BLOBS_SWIFT's server folder)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
process.env.TEST_BLOBS = blobs;
