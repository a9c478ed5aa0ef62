/** Equality- and set-less label selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated (all must hold). */
export function matchesLabelSelector(labels: Record<string, string>, selector: string): boolean {
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const ne = term.indexOf('!=');
    if (ne > 0) { if (labels[term.slice(0, ne).trim()] === term.slice(ne + 2).trim()) return false; continue; }
    const eq = term.indexOf('=');
    if (eq > 0) { if (labels[term.slice(0, eq).trim()] !== term.slice(eq + (term[eq + 1] === '=' ? 2 : 1)).trim()) return false; continue; }
    if (term.startsWith('!')) { if (term.slice(1) in labels) return false; continue; }
    if (!(term in labels)) return false;
  }
  return true;
}

/** Field selectors: `metadata.name=x`, `spec.nodeName!=y`, comma-separated, on dotted paths. */
export function matchesFieldSelector(obj: unknown, selector: string): boolean {
  for (const raw of selector.split(',')) {
    const term = raw.trim();
    if (!term) continue;
    const ne = term.indexOf('!=');
    const eq = term.indexOf('=');
    const negate = ne > 0;
    const path = (negate ? term.slice(0, ne) : term.slice(0, eq)).trim();
    const want = (negate ? term.slice(ne + 2) : term.slice(eq + (term[eq + 1] === '=' ? 2 : 1))).trim();
    let v: unknown = obj;
    for (const p of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
    const have = v === undefined || v === null ? '' : String(v);
    if (negate ? have === want : have !== want) return false;
  }
  return true;
}
