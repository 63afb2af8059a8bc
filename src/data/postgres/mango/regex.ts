/**
 * `$regex` on PostgreSQL: the SQLite engine evaluates patterns with RE2 (re2js); PostgreSQL's own regular
 * expressions (ARE) give the same answer only on a subset of the syntax. `toPgRegex` rewrites a pattern of that
 * subset into an ARE with the same meaning, or returns null: the caller then filters with RE2 in JS.
 *
 * The subset: literal characters, escaped punctuation, \n \t \r \f, `.` (RE2: anything but a new line), `^` and `$`
 * (RE2 without flags: start and end of the text, as an ARE outside newline-sensitive mode), groups `( )` and
 * `(?: )`, alternation, the quantifiers `* + ? {n} {n,} {n,m}` (counts up to 255, ARE's limit) and their lazy forms,
 * bracket expressions of characters, ranges and \d \w \s, and \d \D \w \W \s \S (ASCII classes in RE2, spelled out
 * here so that no locale decides). Anything else (flags, \b, \pL, POSIX classes, \x…, named groups…) is left to RE2.
 */
const CLASSES: Record<string, string> = { d: '0-9', w: '0-9A-Za-z_', s: '\t\n\f\r ' };
const CONTROL: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f' };
const PUNCT = /^[!-/:-@[-`{-~]$/; // ASCII punctuation: `\` + it is that character in RE2 and in an ARE
const REPEAT = /^\{(\d+)(,(\d*))?\}/;

/** A character inside an ARE bracket expression. */
function inBracket(c: string): string {
  return ']\\^-['.includes(c) ? `\\${c}` : c;
}

/** The bracket expression at pattern[i] (i after the `[`); [ARE text, next index] or null. */
function bracket(chars: string[], start: number): [string, number] | null {
  let i = start;
  let out = '[';
  if (chars[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  const item = (): string | null => {
    const c = chars[i];
    if (c === undefined) return null;
    if (c === '\\') {
      const e = chars[i + 1] ?? '';
      i += 2;
      if (CONTROL[e]) return CONTROL[e] as string;
      if (PUNCT.test(e)) return e;
      return null;
    }
    if (c === '[' && chars[i + 1] === ':') return null; // POSIX class: locale-dependent in PostgreSQL
    i++;
    return c;
  };
  for (;;) {
    const c = chars[i];
    if (c === undefined) return null;
    if (c === ']' && !first) return [out + ']', i + 1];
    first = false;
    if (c === '\\' && CLASSES[chars[i + 1] ?? '']) {
      out += CLASSES[chars[i + 1] as string] as string;
      i += 2;
      continue;
    }
    const lo = item();
    if (lo === null) return null;
    if (chars[i] === '-' && chars[i + 1] !== ']' && chars[i + 1] !== undefined) {
      i++;
      const hi = item();
      if (hi === null) return null;
      out += `${inBracket(lo)}-${inBracket(hi)}`;
    } else out += inBracket(lo);
  }
}

/** The ARE equivalent of a (valid) RE2 pattern, or null when it is outside the subset. */
export function toPgRegex(pattern: string): string | null {
  const chars = [...pattern];
  let out = '';
  let canRepeat = false; // is there an atom before, that a quantifier may apply to?
  for (let i = 0; i < chars.length; ) {
    const c = chars[i] as string;
    if (c === '*' || c === '+' || c === '?' || (c === '{' && REPEAT.test(chars.slice(i, i + 12).join('')))) {
      if (!canRepeat) return null;
      let q = c;
      if (c === '{') {
        const m = REPEAT.exec(chars.slice(i, i + 12).join('')) as RegExpExecArray;
        if (Number(m[1]) > 255 || (m[3] !== undefined && m[3] !== '' && Number(m[3]) > 255)) return null;
        q = m[0];
      }
      i += [...q].length;
      if (chars[i] === '?') {
        q += '?';
        i++;
      }
      out += q;
      canRepeat = false;
      continue;
    }
    canRepeat = true;
    i++;
    if (c === '\\') {
      const e = chars[i] ?? '';
      i++;
      if (CLASSES[e]) out += `[${CLASSES[e] as string}]`;
      else if (CLASSES[e.toLowerCase()]) out += `[^${CLASSES[e.toLowerCase()] as string}]`;
      else if (CONTROL[e]) out += CONTROL[e] as string;
      else if (PUNCT.test(e)) out += `\\${e}`;
      else return null;
    } else if (c === '.') out += '[^\n]';
    else if (c === '[') {
      const b = bracket(chars, i);
      if (!b) return null;
      out += b[0];
      i = b[1];
    } else if (c === '(') {
      if (chars[i] === '?') {
        if (chars[i + 1] !== ':') return null;
        i += 2;
        out += '(?:';
      } else out += '(';
      canRepeat = false;
    } else if (c === '|' || c === '^' || c === '$') {
      out += c;
      canRepeat = false;
    } else if (c === ')') out += ')';
    else if (c === '{' || c === '}' || c === ']') out += `\\${c}`;
    else out += c;
  }
  return out;
}
