/** The feature flags of the configuration (`settings.flags`, a JSON object checked when the configuration loads). */

/** The flags as an object; throws on a value that is not a JSON object (the configuration check refuses those first). */
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

/** One flag, or undefined. */
export function configFlag(raw: string, name: string): unknown {
  const flags = flagsOf(raw);
  return Object.hasOwn(flags, name) ? flags[name] : undefined;
}
