import type { AttributeValue, UnifiedEvent } from '@tapio/core';

/**
 * A field reference as in the OpenTelemetry Collector's stanza operators:
 * `body`, `body.a.b`, `attributes.level`, `attributes["log.file.name"]`, `resource["k8s.pod.name"]`.
 * Parsed once at config time; get/set walk plain objects without allocating.
 */
export interface FieldRef {
  root: 'body' | 'attributes' | 'resource';
  keys: string[];
  text: string;
}

const SEGMENT = /^(?:\.([^.[\]"]+)|\["((?:[^"\\]|\\.)*)"\])/;

export function parseField(text: string): FieldRef {
  const m = /^(body|attributes|resource)/.exec(text);
  if (!m) throw new Error(`field "${text}" must start with body, attributes or resource`);
  const keys: string[] = [];
  let rest = text.slice(m[1]!.length);
  while (rest) {
    const s = SEGMENT.exec(rest);
    if (!s) throw new Error(`field "${text}": cannot read "${rest}" (use .name or ["dotted.name"])`);
    keys.push(s[1] ?? s[2]!.replace(/\\(.)/g, '$1'));
    rest = rest.slice(s[0].length);
  }
  return { root: m[1] as FieldRef['root'], keys, text };
}

function rootOf(e: UnifiedEvent, root: FieldRef['root']): Record<string, AttributeValue> | undefined {
  if (root === 'attributes') return e.attributes;
  if (root === 'resource') return e.resource;
  const b = e.log!.body;
  return typeof b === 'object' && b !== null && !Array.isArray(b) ? b : undefined;
}

export function getField(e: UnifiedEvent, f: FieldRef): AttributeValue | undefined {
  if (f.keys.length === 0) return f.root === 'body' ? e.log!.body : rootOf(e, f.root);
  let cur: AttributeValue | undefined = rootOf(e, f.root);
  for (let i = 0; i < f.keys.length; i++) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = cur[f.keys[i]!];
  }
  return cur;
}

export function setField(e: UnifiedEvent, f: FieldRef, value: AttributeValue): void {
  if (f.keys.length === 0) {
    if (f.root === 'body') e.log!.body = value;
    else if (typeof value === 'object' && value !== null && !Array.isArray(value)) mergeInto(e, f, value);
    return;
  }
  let cur = rootOf(e, f.root);
  if (!cur) { cur = {}; e.log!.body = cur; }
  for (let i = 0; i < f.keys.length - 1; i++) {
    const k = f.keys[i]!;
    let next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) { next = {}; cur[k] = next; }
    cur = next as Record<string, AttributeValue>;
  }
  cur[f.keys[f.keys.length - 1]!] = value;
}

export function deleteField(e: UnifiedEvent, f: FieldRef): AttributeValue | undefined {
  if (f.keys.length === 0) {
    if (f.root !== 'body') return undefined;
    const v = e.log!.body; e.log!.body = undefined; return v;
  }
  let cur: AttributeValue | undefined = rootOf(e, f.root);
  for (let i = 0; i < f.keys.length - 1; i++) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
    cur = cur[f.keys[i]!];
  }
  if (typeof cur !== 'object' || cur === null || Array.isArray(cur)) return undefined;
  const last = f.keys[f.keys.length - 1]!;
  const v = cur[last];
  delete cur[last];
  return v;
}

/** Copies every key of `from` into the object at `to` (parsers' `parse_to`). */
export function mergeInto(e: UnifiedEvent, to: FieldRef, from: Record<string, AttributeValue>): void {
  if (to.root === 'body' && to.keys.length === 0) { e.log!.body = from; return; }
  const target = getField(e, to);
  if (typeof target !== 'object' || target === null || Array.isArray(target)) { setField(e, to, from); return; }
  for (const k in from) target[k] = from[k]!;
}
