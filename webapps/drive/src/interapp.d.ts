// cozy-interapp ships no types: the part of its service side the PICK intent page uses.
declare module 'cozy-interapp' {
  import type CozyClient from 'cozy-client/types/CozyClient';
  export interface IntentService {
    getIntent(): { _id: string; attributes: { action: string; type: string; data?: Record<string, unknown> } };
    getData(): Record<string, unknown> | undefined;
    terminate(doc: unknown): void;
    cancel(): void;
    throw(error: Error): void;
  }
  export default class Intents {
    constructor(opts: { client: CozyClient });
    createService(intentId?: string, serviceWindow?: Window): Promise<IntentService>;
  }
}
