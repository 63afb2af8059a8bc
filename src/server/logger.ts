import { pino, type Logger } from 'pino';
import type { HearthConfig } from '../config/types.js';

/** Structured logs; secrets (tokens, passphrases, cookies) are never written. */
export function createLogger(config: HearthConfig): Logger {
  return pino({
    level: config.log.level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'passphrase', '*.passphrase', 'token', '*.token'],
      censor: '[redacted]',
    },
  });
}
