/** PouchDB 9 in Node, with the http adapter (to Hearth) and an in-memory adapter (the local side). */
import PouchDBCore from 'pouchdb-core';
import HttpAdapter from 'pouchdb-adapter-http';
import MemoryAdapter from 'pouchdb-adapter-memory';
import Replication from 'pouchdb-replication';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Pouch = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const PouchDB: any = (PouchDBCore as any).plugin(HttpAdapter).plugin(MemoryAdapter).plugin(Replication);

let n = 0;
export function localDb(): Pouch {
  return new PouchDB(`local-${process.pid}-${++n}`, { adapter: 'memory' });
}

export function remoteDb(url: string, token: string): Pouch {
  return new PouchDB(url, { auth: { username: 'user', password: token } });
}
