import * as net from 'node:net';

/**
 * The proxy for `target` from the environment when `proxy_url` is not set, as the Collector's
 * confighttp (Go's http.ProxyFromEnvironment) picks it: HTTPS_PROXY for https targets, HTTP_PROXY
 * for http ones (upper case first, then lower case), none when NO_PROXY matches the target or the
 * target is localhost / a loopback address. A value without a scheme means http://.
 * Returns undefined for a direct connection; throws when the variable is set to something we
 * cannot use (not a URL, or a scheme not in `schemes`), so a required proxy is never bypassed
 * silently. otlphttp takes http:// and https:// proxies (Go's transport does); the gRPC exporter
 * only http:// ones (gRPC-Go speaks plain CONNECT to its proxy).
 */
export function proxyFromEnvironment(target: URL | { protocol: string; hostname: string; port: string }, env: NodeJS.ProcessEnv = process.env, schemes: readonly string[] = HTTP_ONLY): URL | undefined {
  const secure = target.protocol === 'https:';
  const name = secure ? 'HTTPS_PROXY' : 'HTTP_PROXY';
  // Go ignores HTTP_PROXY in a CGI environment (REQUEST_METHOD set): there it is a request header
  const raw = pick(env, name, !secure && env.REQUEST_METHOD !== undefined);
  if (!raw) return undefined;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(host) || noProxyMatches(pick(env, 'NO_PROXY', false) ?? '', host, target.port || (secure ? '443' : '80'))) return undefined;
  let proxy: URL;
  try {
    proxy = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `http://${raw}`);
  } catch {
    throw new Error(`the environment variable ${name} is not a proxy URL: ${raw}`);
  }
  if (!schemes.includes(proxy.protocol)) {
    throw new Error(`the environment variable ${name} names a ${proxy.protocol}// proxy; only ${schemes.map((s) => `${s}//`).join(' and ')} proxies are supported here (set proxy_url, or exclude ${host} with NO_PROXY)`);
  }
  return proxy;
}

export const HTTP_ONLY: readonly string[] = ['http:'];
export const HTTP_OR_HTTPS: readonly string[] = ['http:', 'https:'];

function pick(env: NodeJS.ProcessEnv, name: string, ignoreUpper: boolean): string | undefined {
  return (ignoreUpper ? undefined : env[name]) || env[name.toLowerCase()] || undefined;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/**
 * NO_PROXY: comma-separated entries; `*` matches everything; an IP address or CIDR block matches
 * addresses; `example.com` matches itself and its subdomains, `.example.com` (or `*.example.com`)
 * only its subdomains; an entry may carry `:port` and then matches only that port.
 */
export function noProxyMatches(noProxy: string, host: string, port: string): boolean {
  for (let entry of noProxy.split(',')) {
    entry = entry.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    if (entry.includes('/')) { if (inCidr(host, entry)) return true; continue; }
    let entryPort: string | undefined;
    const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(entry);
    if (withPort) { entry = withPort[1]!; entryPort = withPort[2]; }
    entry = entry.replace(/^\[|\]$/g, '');
    if (entryPort !== undefined && entryPort !== port) continue;
    if (net.isIP(entry)) { if (entry === host) return true; continue; }
    if (entry.startsWith('*.')) entry = entry.slice(1);
    // `.example.com` (or `*.example.com`): subdomains only; `example.com`: itself and subdomains
    if (entry.startsWith('.') ? host.endsWith(entry) : host === entry || host.endsWith('.' + entry)) return true;
  }
  return false;
}

function inCidr(host: string, cidr: string): boolean {
  const [address, bits] = cidr.split('/');
  const family = net.isIP(address ?? '');
  if (!family || !net.isIP(host) || !/^\d+$/.test(bits ?? '')) return false;
  const list = new net.BlockList();
  try {
    list.addSubnet(address!, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
    return list.check(host, net.isIPv6(host) ? 'ipv6' : 'ipv4');
  } catch {
    return false; // a prefix length out of range: the entry matches nothing, as in Go
  }
}
