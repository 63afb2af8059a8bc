/** The feature flags of the configuration (`settings.flags`, a JSON object), read as cozy-stack's `GET /settings/flags` serves them. */
export function flagsOf(raw: string): Record<string, unknown> {
  let flags: unknown;
  try {
    flags = JSON.parse(raw);
  } catch {
    flags = null;
  }
  if (typeof flags !== 'object' || flags === null || Array.isArray(flags)) throw new Error('settings.flags must be a JSON object, e.g. {"has_feature1":true}');
  return flags as Record<string, unknown>;
}
