import { createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP proxy to a Redis server that can turn its open connections into zombies: `blackhole()`
 * stops forwarding bytes on every current connection, in both directions, without closing any
 * socket (what a vanished host behind a NAT or a failed-over VIP looks like). New connections
 * are forwarded normally.
 */
export class BlackholeProxy {
  private readonly server: Server;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket; dead: boolean }>();

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      const pair = { client, upstream, dead: false };
      this.pairs.add(pair);
      client.on('data', (d) => {
        if (!pair.dead) upstream.write(d);
      });
      upstream.on('data', (d) => {
        if (!pair.dead) client.write(d);
      });
      const end = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end).on('error', end);
      upstream.on('close', end).on('error', end);
    });
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve) => this.server.listen(port, '127.0.0.1', () => resolve()));
  }

  /** Open connections now, and how many of them are zombies. */
  get connections(): { open: number; dead: number } {
    const all = [...this.pairs];
    return { open: all.length, dead: all.filter((p) => p.dead).length };
  }

  blackhole(): void {
    for (const p of this.pairs) p.dead = true;
  }

  /** Closes the zombie connections (their clients then reconnect through the proxy). */
  dropZombies(): void {
    for (const p of this.pairs) {
      if (!p.dead) continue;
      p.client.destroy();
      p.upstream.destroy();
    }
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
