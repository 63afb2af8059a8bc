declare module 'pouchdb-merge';
declare module 'pouchdb-core';
declare module 'pouchdb-adapter-http';
declare module 'pouchdb-adapter-memory';
declare module 'pouchdb-replication';
declare module 'pouchdb-selector-core';
declare module 'pouchdb-collate';
declare module 'cozy-stack-client';
