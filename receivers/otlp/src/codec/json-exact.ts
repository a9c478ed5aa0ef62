/**
 * JSON.parse for OTLP/JSON, except that integer literals too long for a double are kept as
 * their decimal text. OTLP/JSON lets senders write 64-bit integers as JSON numbers, and the
 * Collector reads them exactly; JSON.parse would turn 9007199254740993 into ...992. The codec
 * takes 64-bit fields as decimal strings anyway, so quoting such a literal loses nothing.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(NUMBER_IN_VALUE_POSITION.test(text) ? quoteLongIntegers(text) : text);
}

/** A 16+ digit literal after ':' ',' or '[' — most requests have none (timestamps are strings). */
const NUMBER_IN_VALUE_POSITION = /[:,[]\s*-?\d{16}/;

/** Wraps integer literals outside strings that a double cannot hold exactly in quotes. */
function quoteLongIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // skip the string, escapes included
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) { i++; break; }
      }
      continue;
    }
    if (c === MINUS || isDigit(c)) {
      const start = i;
      for (i++; i < text.length && isNumberChar(text.charCodeAt(i)); i++);
      const token = text.slice(start, i);
      if (token.length >= 16 && /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copied, start)}"${token}"`;
        copied = i;
      }
      continue;
    }
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

const QUOTE = 34, BACKSLASH = 92, MINUS = 45;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
/** digits, '.', 'e', 'E', '+', '-' */
const isNumberChar = (c: number): boolean => isDigit(c) || c === 46 || c === 101 || c === 69 || c === 43 || c === MINUS;
