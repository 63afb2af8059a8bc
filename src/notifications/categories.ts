/**
 * Notification categories. An app declares its own in the `notifications` key of its manifest.webapp (a
 * konnector in its manifest.konnector), read where src/jobs/sandbox/manifests.ts reads them until the apps
 * issue installs apps (`jobs.appsDir/<slug>/manifest.webapp`, `jobs.konnectorsDir/<slug>/manifest.konnector`).
 * A sender may only use the categories of its own slug; the built-in `system` category is the stack's, the
 * CLI's and the owner's. As cozy-stack (web/notifications): no category declared, or an unknown one, is 403.
 */
import { readdirSync } from 'node:fs';
import type { HearthConfig } from '../config/types.js';
import { Forbidden, NotFound } from '../common/errors.js';
import { readManifest, SLUG_RE } from '../jobs/sandbox/manifests.js';
import { SYSTEM_CATEGORY, type CategoryProps, type Sender } from './types.js';

export const SYSTEM_PROPS: CategoryProps = { description: 'Messages from your Hearth itself (security, storage, accounts)', default_priority: 'normal' };

type Kind = 'app' | 'konnector';
type ManifestConfig = Pick<HearthConfig, 'jobs'>;

const WHERE: Record<Kind, { setting: 'appsDir' | 'konnectorsDir'; file: string }> = {
  app: { setting: 'appsDir', file: 'manifest.webapp' },
  konnector: { setting: 'konnectorsDir', file: 'manifest.konnector' },
};

/** A manifest entry with only the properties Hearth knows, of the right types (others are dropped). */
function propsOf(raw: unknown): CategoryProps {
  const r = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const p: CategoryProps = {};
  if (typeof r.description === 'string') p.description = r.description.slice(0, 500);
  for (const k of ['collapsible', 'stateful', 'multiple'] as const) if (typeof r[k] === 'boolean') p[k] = r[k];
  if (r.default_priority === 'high' || r.default_priority === 'normal') p.default_priority = r.default_priority;
  return p;
}

/**
 * The categories `slug` declares, or null when its manifest has no `notifications` map.
 * NotFound when the app or konnector is not installed (cozy-stack: app.ErrNotFound, 404).
 */
export function declaredCategories(config: ManifestConfig, kind: Kind, slug: string): Map<string, CategoryProps> | null {
  const { setting, file } = WHERE[kind];
  let json: Record<string, unknown>;
  try {
    json = readManifest(config.jobs[setting], `jobs.${setting}`, slug, file).json;
  } catch {
    throw new NotFound(`the ${kind} ${slug} is not installed on this server (no valid ${slug}/${file}): its notification categories are declared there`);
  }
  const raw = json.notifications;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return null;
  return new Map(Object.entries(raw as Record<string, unknown>).map(([name, props]) => [name, propsOf(props)]));
}

/** The preference key of a category: `system`, or `<slug>/<category>` for an app's or a konnector's. */
export function categoryKey(sender: Sender, category: string): string {
  return sender.slug === '' ? category : `${sender.slug}/${category}`;
}

/** The properties of `category` for this sender, or a Forbidden that says which categories it may use. */
export function resolveCategory(config: ManifestConfig, sender: Sender, category: string): { key: string; props: CategoryProps } {
  if (sender.slug === '') {
    if (category !== SYSTEM_CATEGORY) throw new Forbidden(`Notification category does not exist: a ${sender.originator} sender only has the "${SYSTEM_CATEGORY}" category`);
    return { key: SYSTEM_CATEGORY, props: SYSTEM_PROPS };
  }
  const kind: Kind = sender.originator === 'konnector' ? 'konnector' : 'app';
  const declared = declaredCategories(config, kind, sender.slug);
  if (!declared || declared.size === 0) {
    throw new Forbidden(`No category for this app: ${sender.slug} declares no notification category (the "notifications" key of its ${WHERE[kind].file})`);
  }
  const props = declared.get(category);
  if (!props) {
    const names = [...declared.keys()].slice(0, 20).map((n) => JSON.stringify(n)).join(', ');
    throw new Forbidden(`Notification category does not exist: ${sender.slug} declares ${names}, not ${JSON.stringify(category.slice(0, 80))}`);
  }
  return { key: categoryKey(sender, category), props };
}

export interface KnownCategory {
  key: string;
  slug: string;
  category: string;
  props: CategoryProps;
}

/** Every category this server knows: `system`, then those of the installed apps and konnectors (for the preferences). */
export function knownCategories(config: ManifestConfig): KnownCategory[] {
  const out: KnownCategory[] = [{ key: SYSTEM_CATEGORY, slug: '', category: SYSTEM_CATEGORY, props: SYSTEM_PROPS }];
  for (const kind of ['app', 'konnector'] as const) {
    const dir = config.jobs[WHERE[kind].setting];
    if (!dir) continue;
    let slugs: string[];
    try {
      slugs = readdirSync(dir).filter((s) => SLUG_RE.test(s)).sort();
    } catch {
      continue;
    }
    for (const slug of slugs) {
      let declared: Map<string, CategoryProps> | null;
      try {
        declared = declaredCategories(config, kind, slug);
      } catch {
        continue;
      }
      for (const [category, props] of declared ?? []) out.push({ key: `${slug}/${category}`, slug, category, props });
    }
  }
  return out;
}
