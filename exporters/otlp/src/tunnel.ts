import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { Duplex } from 'node:stream';

/** `Proxy-Authorization` from the proxy URL's user info, as Go's transport sends it. */
export function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const cred = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'Proxy-Authorization': `Basic ${Buffer.from(cred).toString('base64')}` };
}

/**
 * The TLS server name for an https:// proxy, to give explicitly: Node would take it from the Host
 * header, which names the target. '' for an IP address: no SNI, the certificate checked for the IP.
 */
export function proxyServerName(proxy: URL): string {
  const host = proxy.hostname.replace(/^\[|\]$/g, '');
  return net.isIP(host) ? '' : host;
}

/** `host:port` with an IPv6 host in brackets, as CONNECT and :authority want it. */
export function hostPort(host: string, port: string | number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Asks a proxy for a CONNECT tunnel to `target` (`host:port`); resolves with the tunnelled
 * socket. An https:// proxy is reached over TLS with `proxyTls` (the exporter's own TLS settings,
 * as Go's transport uses them for the proxy too), its certificate checked for its name.
 */
export function openTunnel(proxy: URL, target: string, timeoutMs?: number, proxyTls: tls.ConnectionOptions = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const host = proxy.hostname.replace(/^\[|\]$/g, '');
    const secure = proxy.protocol === 'https:';
    const options = {
      host, port: proxy.port || (secure ? 443 : 80), method: 'CONNECT', path: target, agent: false as const,
      headers: { Host: target, ...proxyAuthorization(proxy) }, timeout: timeoutMs,
    };
    const req = secure ? https.request({ ...proxyTls, ...options, servername: proxyServerName(proxy) }) : http.request(options);
    req.once('connect', (res, socket, head) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        reject(new Error(`proxy ${proxy.host} refused CONNECT ${target}: HTTP ${res.statusCode}`));
        return;
      }
      // bytes the target sent right after the proxy's answer belong to the tunnel
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.once('timeout', () => req.destroy(new Error(`proxy ${proxy.host} did not answer CONNECT ${target} in time`)));
    req.once('error', reject);
    req.end();
  });
}

/**
 * A stream usable at once for a socket that is still being set up (a CONNECT tunnel): what is
 * written waits for it, what it reads is passed on. For APIs that want their connection
 * synchronously (http2.connect's createConnection).
 */
export function pendingSocket(socket: Promise<net.Socket>): Duplex {
  let ready: net.Socket | undefined;
  const stream: Duplex = new Duplex({
    write(chunk: Buffer, _encoding, cb) {
      if (ready) ready.write(chunk, cb);
      else socket.then((s) => s.write(chunk, cb), cb);
    },
    final(cb) { socket.then((s) => s.end(cb), cb); },
    read() { ready?.resume(); },
    destroy(err, cb) { ready?.destroy(); socket.then((s) => s.destroy(), () => undefined); cb(err); },
  });
  socket.then((s) => {
    ready = s;
    if (stream.destroyed) { s.destroy(); return; }
    s.on('data', (chunk: Buffer) => { if (!stream.push(chunk)) s.pause(); });
    s.on('end', () => stream.push(null));
    s.on('error', (err) => stream.destroy(err));
    s.on('close', () => stream.destroy());
  }, (err: Error) => stream.destroy(err));
  return stream;
}
