/** setupFiles of the object-storage projects: the project's store (TEST_OBJECT_STORE: swift or s3) becomes the blobs under test. */
const store = process.env.TEST_OBJECT_STORE;
const blobs = store === 'swift' ? process.env.TEST_BLOBS_SWIFT : store === 's3' ? process.env.TEST_BLOBS_S3 : undefined;
if (!blobs) throw new Error(`TEST_OBJECT_STORE=${store ?? ''}: expected swift or s3, with the Swift server of test/helpers/servers/swift-global.ts`);
process.env.TEST_BLOBS = blobs;
