/**
 * Per-peer metrics of the vsock input, read at each scrape as labeled series
 * (`qlog_input_peer_records_in{id="...",plugin="vsock",peer="cid:16"}`). A peer is its CID
 * (vsock) or its IP (tcp): reconnects add to the same series. A unix or hybrid peer has no
 * identity beyond its connection (`unix:/path#3`). Peers come and go, so the series stay
 * bounded: a peer's are dropped `retentionMs` after its last connection closed, and at most `cap`
 * closed peers are kept (the longest closed go first).
 */
import type { LabeledSample } from '../../core/index.js';
import type { PeerIdentity } from '../../core/transport/index.js';

export class PeerStats {
  recordsIn = 0;
  bytesIn = 0;
  connections = 0;
  open = 0;
  /** Bytes (records' memory cost) emitted and not yet settled. */
  inflightBytes = 0;
  /** Times a connection of this peer was paused for going over peer_buffer_limit. */
  throttles = 0;
  /** When the last connection closed (0: one is open). */
  closedAt = 0;
  private pausedMs = 0;
  /** Connections of this peer not being read now, since `mark`. */
  private pausedConns = 0;
  private mark = 0;

  constructor(readonly key: string) {}

  /** A connection of this peer stopped (+1) or started (-1) being read. */
  paused(delta: 1 | -1, now: number): void {
    this.accrue(now);
    this.pausedConns += delta;
  }

  /** Connection-seconds spent paused (two connections paused for 1 s: 2). */
  pausedSeconds(now: number): number {
    this.accrue(now);
    return this.pausedMs / 1000;
  }

  private accrue(now: number): void {
    if (this.pausedConns > 0) this.pausedMs += this.pausedConns * (now - this.mark);
    this.mark = now;
  }
}

/** The metrics key of a peer: stable across its reconnects where the transport gives an identity. */
export function peerKey(peer: PeerIdentity): string {
  if (peer.transport === 'vsock' && peer.cid !== undefined) return `cid:${peer.cid}`;
  if (peer.transport === 'tcp' && peer.address !== undefined) return `tcp:${peer.address}`;
  // A tls peer is its verified certificate's subject, else its address (not the ephemeral port).
  if (peer.transport === 'tls') return peer.subject !== undefined ? `tls:${peer.subject}` : peer.address !== undefined ? `tls:${peer.address}` : peer.label;
  return peer.label;
}

export class PeerTable {
  private readonly peers = new Map<string, PeerStats>();

  constructor(
    private readonly retentionMs: number,
    private readonly cap: number,
  ) {}

  get size(): number {
    return this.peers.size;
  }

  get(key: string): PeerStats | undefined {
    return this.peers.get(key);
  }

  /** A connection from this peer opened. */
  open(peer: PeerIdentity): PeerStats {
    const key = peerKey(peer);
    let p = this.peers.get(key);
    if (!p) this.peers.set(key, (p = new PeerStats(key)));
    p.connections++;
    p.open++;
    p.closedAt = 0;
    return p;
  }

  /** A connection from this peer closed. */
  close(p: PeerStats, now = Date.now()): void {
    p.open--;
    if (p.open === 0) p.closedAt = now;
    this.prune(now);
  }

  private prune(now: number): void {
    const closed: PeerStats[] = [];
    for (const p of this.peers.values()) {
      if (p.open > 0) continue;
      if (now - p.closedAt >= this.retentionMs) this.peers.delete(p.key);
      else closed.push(p);
    }
    if (closed.length <= this.cap) return;
    closed.sort((a, b) => a.closedAt - b.closedAt);
    for (let i = 0; i < closed.length - this.cap; i++) this.peers.delete(closed[i]!.key);
  }

  *samples(now = Date.now()): Iterable<LabeledSample> {
    this.prune(now);
    for (const p of this.peers.values()) {
      const labels = { peer: p.key };
      yield { name: 'peer_records_in', labels, value: p.recordsIn };
      yield { name: 'peer_bytes_in', labels, value: p.bytesIn };
      yield { name: 'peer_connections', labels, value: p.connections };
      yield { name: 'peer_open_connections', labels, value: p.open, gauge: true };
      yield { name: 'peer_inflight_bytes', labels, value: p.inflightBytes, gauge: true };
      yield { name: 'peer_paused_seconds', labels, value: p.pausedSeconds(now) };
      yield { name: 'peer_throttles', labels, value: p.throttles };
    }
  }
}
