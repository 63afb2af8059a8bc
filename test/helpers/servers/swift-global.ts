/**
 * globalSetup of the object-storage projects (vitest.config.ts): one Swift server (test/helpers/servers/swift.ts) for
 * the run, whose settings go to the test processes as TEST_BLOBS_SWIFT and TEST_BLOBS_S3 (the JSON of a `blobs`
 * setting each); ./swift-project.ts then names the project's one as TEST_BLOBS (test/helpers/engines.ts). The two
 * projects share the server: the first setup starts it, the other finds it in the environment. The setup does not
 * wait for it (its rings and Python servers take seconds, more on a busy machine, while the run's other setups and
 * first files need none of it): swift-project.ts waits in the workers until every server answers
 * (TEST_SWIFT_HEALTH), and says why if it never does.
 */
import { launchSwift } from './swift.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.TEST_BLOBS_SWIFT) return undefined;
  const { server: swift, ready, healthUrls } = await launchSwift();
  // why it failed, for the teardown (the workers see it as never answering)
  ready.catch((e: unknown) => console.error(`the tests' Swift server did not start: ${(e as Error).message}`));
  const base = { engine: 'local', swift: { authUrl: null, user: null, key: null, containerPrefix: 'hearth-' }, s3: { endpoint: null, region: 'us-east-1', bucket: null, accessKeyId: null, secretAccessKey: null, forcePathStyle: true } };
  process.env.TEST_BLOBS_SWIFT = JSON.stringify({ ...base, engine: 'swift', swift: { authUrl: swift.authUrl, user: swift.user, key: swift.key, containerPrefix: 'hearth-' } });
  process.env.TEST_BLOBS_S3 = JSON.stringify({ ...base, engine: 's3', s3: { ...swift.s3, bucket: 'hearth-tests', forcePathStyle: true } });
  process.env.TEST_SWIFT_HEALTH = JSON.stringify(healthUrls);
  return async () => {
    delete process.env.TEST_BLOBS_SWIFT;
    delete process.env.TEST_BLOBS_S3;
    delete process.env.TEST_SWIFT_HEALTH;
    await swift.stop();
  };
}
