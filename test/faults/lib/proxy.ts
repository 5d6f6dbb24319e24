/**
 * A unix-socket proxy between the two agents whose connections the test can cut at will
 * ("the link cut under the agents"): cut() destroys every open connection pair at once.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';

export class CuttableProxy {
  private server?: Server;
  private readonly pairs = new Set<[Socket, Socket]>();
  cuts = 0;
  constructor(
    readonly listenPath: string,
    readonly targetPath: string,
  ) {}

  start(): Promise<void> {
    rmSync(this.listenPath, { force: true });
    this.server = createServer((client) => {
      const upstream = createConnection(this.targetPath);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    return new Promise((r) => this.server!.listen(this.listenPath, () => r()));
  }

  get connections(): number {
    return this.pairs.size;
  }

  cut(): void {
    this.cuts++;
    this.destroyAll();
  }

  private destroyAll(): void {
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  close(): Promise<void> {
    this.destroyAll();
    return new Promise((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}
