/** One feature flag of the configuration (`settings.flags`, a JSON object that settings/routes.ts checks at start), or undefined. */
export function configFlag(raw: string, name: string): unknown {
  let flags: unknown;
  try {
    flags = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return flags && typeof flags === 'object' && !Array.isArray(flags) && Object.hasOwn(flags, name) ? (flags as Record<string, unknown>)[name] : undefined;
}
