import * as net from 'node:net';

export interface ProxiedConnection { client: net.Socket; upstream: net.Socket; frozen: boolean }

/**
 * A TCP proxy to 127.0.0.1:`port` whose connections can go silent: a `frozen` one swallows bytes
 * both ways and stays open, like a peer that vanished behind a NAT or a dead host without a RST.
 */
export async function freezableProxy(port: number): Promise<{ port: number; conns: ProxiedConnection[]; close: () => void }> {
  const conns: ProxiedConnection[] = [];
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const c: ProxiedConnection = { client, upstream, frozen: false };
    conns.push(c);
    client.on('data', (d) => { if (!c.frozen) upstream.write(d); });
    upstream.on('data', (d) => { if (!c.frozen) client.write(d); });
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    conns,
    close: () => { for (const c of conns) { c.client.destroy(); c.upstream.destroy(); } proxy.close(); },
  };
}
