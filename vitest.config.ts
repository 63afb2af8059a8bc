import { defineConfig } from 'vitest/config';

/** The files suites that go through the blob store by HTTP: run again on Swift and on S3 (issue 16). */
const OBJECT_STORAGE = [
  'src/files/http/upload.test.ts', 'src/files/http/download.test.ts', 'src/files/ranges.test.ts', 'src/files/http/versions.test.ts',
  'src/files/http/thumbnails.test.ts', 'src/files/http/trash.test.ts',
];
const objectStorage = (store: 'swift' | 's3') => ({
  extends: true as const,
  test: {
    name: `object-storage-${store}`,
    include: OBJECT_STORAGE,
    globalSetup: ['test/helpers/servers/swift-global.ts'],
    setupFiles: ['test/helpers/servers/swift-project.ts'],
    env: { TEST_OBJECT_STORE: store },
  },
});

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'default' } },
      objectStorage('swift'),
      objectStorage('s3'),
    ],
  },
});
