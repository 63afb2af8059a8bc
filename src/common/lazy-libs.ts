/**
 * Libraries that cost start-up time and idle memory but serve rare requests (images, two-factor
 * set-up, mail) or only some settings (the scale-out engines), loaded on first use: sharp (libvips)
 * alone adds about 27 MB of RSS and a third of a second to a start, exifr and qrcode several MB more,
 * nodemailer, pg, ioredis and the S3 SDK 30 MB together. Each is loaded once, then shared.
 * In the bundle (scripts/bundle.mjs) a static import of a package left out of it would be loaded at start
 * whatever module imports it: only the dynamic import() and the required ones below wait for their first use.
 */
import { createRequire } from 'node:module';
import type * as S3Sdk from '@aws-sdk/client-s3';
import type * as S3Storage from '@aws-sdk/lib-storage';
import type * as IoRedis from 'ioredis';
import type Pg from 'pg';

function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | null = null;
  return () => (loaded ??= load());
}

/** For the constructors that cannot wait: the package is required (CommonJS) on the first call, from node_modules. */
function lazySync<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= createRequire(import.meta.url)(name) as T);
}

export const loadSharp = lazy(async () => (await import('sharp')).default);
export const loadExifr = lazy(async () => (await import('exifr')).default);
export const loadQrCode = lazy(async () => (await import('qrcode')).default);
export const loadNodemailer = lazy(async () => (await import('nodemailer')).default);
/** docs.url (PostgreSQL), coordination.engine redis and blobs.engine s3 only. */
export const requirePg = lazySync<typeof Pg>('pg');
export const requireIoredis = lazySync<typeof IoRedis>('ioredis');
export const requireS3 = lazySync<typeof S3Sdk>('@aws-sdk/client-s3');
export const requireS3Storage = lazySync<typeof S3Storage>('@aws-sdk/lib-storage');
