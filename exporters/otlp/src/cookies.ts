/**
 * confighttp's `cookies.enabled`: cookies the server sets are sent back on later requests to the
 * same host (a load balancer's sticky-session cookie, typically). A small jar per exporter: it
 * honours Max-Age / Expires and the host, not Path or Domain widening, which OTLP endpoints of
 * one exporter do not need.
 */
export class CookieJar {
  /** host → cookie name → { value, expires (ms epoch, Infinity for a session cookie) } */
  private readonly byHost = new Map<string, Map<string, { value: string; expires: number }>>();

  store(host: string, setCookie: string[] | undefined, now = Date.now()): void {
    for (const line of setCookie ?? []) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      let expires = Infinity;
      for (const a of attrs) {
        const [k = '', v = ''] = a.split('=', 2).map((x) => x.trim());
        if (/^max-age$/i.test(k) && /^-?\d+$/.test(v)) expires = now + Number(v) * 1000;
        else if (/^expires$/i.test(k) && expires === Infinity && !Number.isNaN(Date.parse(v))) expires = Date.parse(v);
      }
      let jar = this.byHost.get(host);
      if (!jar) this.byHost.set(host, (jar = new Map()));
      if (expires <= now) jar.delete(name); // how a server deletes a cookie
      else jar.set(name, { value, expires });
    }
  }

  /** The Cookie header for a request to `host`, or undefined when there is nothing to send. */
  header(host: string, now = Date.now()): string | undefined {
    const jar = this.byHost.get(host);
    if (!jar) return undefined;
    const parts: string[] = [];
    for (const [name, c] of jar) {
      if (c.expires <= now) jar.delete(name);
      else parts.push(`${name}=${c.value}`);
    }
    return parts.length ? parts.join('; ') : undefined;
  }
}
