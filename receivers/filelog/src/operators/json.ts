import type { AttributeValue } from '@tapio/core';
import { Parser } from './parser';

/** `json_parser`: a JSON object in the field becomes fields of `parse_to`. */
export class JsonParser extends Parser {
  protected parse(value: AttributeValue): Record<string, AttributeValue> | string {
    if (typeof value !== 'string') {
      return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : `${this.from.text} is not JSON text`;
    }
    // Cheap pre-check: most non-JSON lines fail here without a thrown exception.
    const c = value.charCodeAt(0) === 0x7b ? 0 : value.trimStart().charCodeAt(0);
    if (c !== 0 && c !== 0x7b) return 'not a JSON object';
    try {
      const parsed: unknown = JSON.parse(value);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'not a JSON object';
      return parsed as Record<string, AttributeValue>;
    } catch (err) {
      return `invalid JSON: ${(err as Error).message}`;
    }
  }
}
