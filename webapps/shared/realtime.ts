/** The realtime plugin that boot.ts registered, typed. */
import type CozyClient from 'cozy-client/dist/CozyClient';
import type { RealtimeApi } from 'cozy-realtime';

export function realtimeOf(client: CozyClient): RealtimeApi {
  return (client as unknown as { plugins: { realtime: RealtimeApi } }).plugins.realtime;
}
