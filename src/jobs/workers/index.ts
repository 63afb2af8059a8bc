/** The built-in workers, each a factory of its WorkerDef given its dependencies. */
export { cleanClientsWorker, type CleanClientsDeps } from './clean-clients.js';
export { logWorker } from './log.js';
export { sendmailWorker, type SendmailDeps } from './sendmail.js';
export { cleanOldTrashedWorker, trashFilesWorker, type CleanOldTrashedDeps, type TrashFilesDeps } from './trash.js';
export { unzipWorker, type UnzipDeps } from './unzip.js';
export { zipWorker, type ZipDeps } from './zip.js';
export { cleanUploadSessionsWorker, CLEAN_UPLOAD_SESSIONS } from './clean-upload-sessions.js';
