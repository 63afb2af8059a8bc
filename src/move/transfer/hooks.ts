/**
 * What the export and import workers tell a move between servers (types.ts MoveHooks; cozy-stack model/move
 * NotifyTarget, and the end of the importer): S's export done → T is told to import it (POST https://T/move/imports,
 * following T's 303 to its 200 page, as cozy-stack requires); S's export failed → T is unblocked (POST /move/abort), and
 * S too (it was blocked `exporting` since /move/go);
 * T's import ended → S is retired (POST https://S/move/finalize) or unblocked (POST /move/abort). The owner gets a mail.
 */
import type { Logger } from 'pino';
import type { Instance, InstanceRegistry } from '../../instances/types.js';
import type { JobEngine } from '../../jobs/engine.js';
import type { ExportDoc, MoveHooks } from '../types.js';
import type { MoveStateStore } from '../state.js';
import { langOf } from '../../auth/login-page.js';
import { moveMail, type MoveMail } from './mails.js';
import type { PendingStore } from './pending.js';
import { callPeer } from './peer.js';

export interface MoveHookDeps {
  registry: Pick<InstanceRegistry, 'get'>;
  pending: PendingStore;
  /** The source is unblocked when its export fails. */
  moveStates: Pick<MoveStateStore, 'transition'>;
  jobs: Pick<JobEngine, 'push'>;
  publicUrl(instance: Instance): string;
  /** `apps.subdomains` of this server: the target tells the source how its app addresses are built. */
  subdomains: 'nested' | 'flat';
  /** The export's settings link with its MAC (`https://<settings host>/#/exports/<MAC>`): the export's own (src/move/export). */
  exportLink(instance: Instance, doc: ExportDoc): Promise<string>;
  logger: Logger;
  /** `imports.allowPrivateUrls`: the other server may be on a private address (move/net.ts). */
  allowPrivate: boolean;
}

async function instanceOf(deps: MoveHookDeps, ref: { id: string; domain: string }): Promise<Instance> {
  const instance = await deps.registry.get(ref.domain);
  if (!instance || instance.id !== ref.id) throw new Error(`the instance ${ref.domain} does not exist any more`);
  return instance;
}

async function mail(deps: MoveHookDeps, instance: Instance, kind: MoveMail, link: string, vars: { from: string; to: string; error?: string }): Promise<void> {
  if (!instance.email) return;
  await deps.jobs.push(instance.domain, { worker: 'sendmail', message: moveMail(langOf(instance.locale), kind, link, vars) }).catch((err: unknown) => {
    deps.logger.warn({ domain: instance.domain, err: err instanceof Error ? err.message : String(err) }, 'the mail about the move could not be queued');
  });
}

const hostOf = (url: string) => new URL(url).host;

export function createMoveHooks(deps: MoveHookDeps): MoveHooks {
  return {
    async exportDone(ref, doc, msg) {
      const instance = await instanceOf(deps, ref);
      const body = { data: { attributes: { url: await deps.exportLink(instance, doc), vault: false, move_from: { url: `${deps.publicUrl(instance)}/`, token: msg.token ?? '' } } } };
      const answer = await callPeer(new URL('/move/imports', msg.move_to.url).href, { allowPrivate: deps.allowPrivate, token: msg.move_to.token, json: body, follow: true });
      if (answer.status !== 200) throw new Error(`${hostOf(msg.move_to.url)} refused to import the export (HTTP ${answer.status})`);
    },

    async exportFailed(ref, msg, error) {
      const instance = await instanceOf(deps, ref);
      const answer = await callPeer(new URL('/move/abort', msg.move_to.url).href, { allowPrivate: deps.allowPrivate, token: msg.move_to.token }).catch((err: unknown) => {
        deps.logger.warn({ domain: ref.domain, err: err instanceof Error ? err.message : String(err) }, 'the target of a failed move could not be unblocked');
        return null;
      });
      if (answer && answer.status !== 204) deps.logger.warn({ domain: ref.domain, status: answer.status }, 'the target of a failed move refused to be unblocked');
      await deps.pending.take('moving_to', instance.id);
      await deps.moveStates.transition(instance.id, 'exporting', null);
      await mail(deps, instance, 'exportFailed', `${deps.publicUrl(instance)}/`, { from: instance.domain, to: hostOf(msg.move_to.url), error });
    },

    async importDone(ref, msg, outcome) {
      const instance = await instanceOf(deps, ref);
      const path = outcome.ok ? `/move/finalize?subdomain=${deps.subdomains}` : '/move/abort';
      const answer = await callPeer(new URL(path, msg.move_from.url).href, { allowPrivate: deps.allowPrivate, token: msg.move_from.token });
      const from = hostOf(msg.move_from.url);
      const here = `${deps.publicUrl(instance)}/`;
      if (outcome.ok) await mail(deps, instance, 'moved', here, { from, to: instance.domain });
      else await mail(deps, instance, 'importFailed', here, { from, to: instance.domain, error: outcome.error ?? 'unknown error' });
      if (answer.status !== 204) throw new Error(`${from} answered ${path.split('?')[0]} with HTTP ${answer.status}`);
    },
  };
}
