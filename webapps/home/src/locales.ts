export const en: Record<string, string> = {};
export const fr: Record<string, string> = {};
