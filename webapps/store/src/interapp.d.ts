// cozy-interapp ships no types: what the Store's intent page uses of its service side (dist/intents: the Intents class).
declare module 'cozy-interapp/dist/intents' {
  export interface IntentService {
    getData(): Record<string, unknown> | undefined;
    getIntent(): { _id: string; attributes: { action: string; type: string; client: string; data?: Record<string, unknown> } };
    terminate(doc: unknown): void;
    cancel(): void;
    throw(error: Error): void;
  }
  export default class Intents {
    constructor(opts: { client: unknown });
    createService(intentId?: string, serviceWindow?: Window): Promise<IntentService>;
  }
}
