// cozy-client ships its types in types/ and its code in dist/: the apps import the code modules directly (boot.ts says why).
declare module 'cozy-client/dist/CozyClient' {
  import CozyClient from 'cozy-client/types/CozyClient';
  export default CozyClient;
}
declare module 'cozy-client/dist/queries/dsl' {
  export * from 'cozy-client/types/queries/dsl';
}
declare module 'cozy-stack-client/dist/errors' {
  /** What cozy-stack-client throws for a response that is not ok: its status and its body (`reason`). */
  export class FetchError extends Error {
    constructor(response: Response, reason: unknown);
    response: Response;
    url: string;
    status: number;
    reason: unknown;
  }
  /** The messages of the token refusals on which cozy-stack-client renews its token. */
  const errors: { EXPIRED_TOKEN: RegExp; INVALID_TOKEN: RegExp; INVALID_TOKEN_ALT: RegExp };
  export default errors;
}
declare module 'cozy-realtime/dist/CozyRealtime' {
  import type { RealtimeApi } from 'cozy-realtime';
  /** cozy-realtime's client of the stack's /realtime socket, on a client that gives `getStackClient()` and its events. */
  export default class CozyRealtime implements RealtimeApi {
    constructor(options: { client: unknown });
    subscribe: RealtimeApi['subscribe'];
    unsubscribe: RealtimeApi['unsubscribe'];
    unsubscribeAll: RealtimeApi['unsubscribeAll'];
  }
}
declare module 'cozy-realtime' {
  export interface RealtimeApi {
    subscribe(event: 'created' | 'updated' | 'deleted' | 'notified', doctype: string, idOrHandler: string | ((doc: unknown) => void), handler?: (doc: unknown) => void): Promise<void>;
    unsubscribe(event: 'created' | 'updated' | 'deleted' | 'notified', doctype: string, idOrHandler: string | ((doc: unknown) => void), handler?: (doc: unknown) => void): Promise<void>;
    unsubscribeAll(): Promise<void>;
  }
}
declare module '@cozy/minilog' { const minilog: unknown; export default minilog; }
