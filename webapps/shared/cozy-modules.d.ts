// cozy-client ships its types in types/ and its code in dist/: the apps import the code modules directly (boot.ts says why).
declare module 'cozy-client/dist/CozyClient' {
  import CozyClient from 'cozy-client/types/CozyClient';
  export default CozyClient;
}
declare module 'cozy-client/dist/queries/dsl' {
  export * from 'cozy-client/types/queries/dsl';
}
declare module 'cozy-realtime' {
  /** cozy-realtime's plugin: registered on the client, it is `client.plugins.realtime`. */
  export const RealtimePlugin: unknown;
  export interface RealtimeApi {
    subscribe(event: 'created' | 'updated' | 'deleted' | 'notified', doctype: string, idOrHandler: string | ((doc: unknown) => void), handler?: (doc: unknown) => void): Promise<void>;
    unsubscribe(event: 'created' | 'updated' | 'deleted' | 'notified', doctype: string, idOrHandler: string | ((doc: unknown) => void), handler?: (doc: unknown) => void): Promise<void>;
    unsubscribeAll(): Promise<void>;
  }
}
