/**
 * In-order commit of read offsets. Chunks of one byte stream are emitted in order and may
 * settle in any order; the committed offset is the end of the longest settled prefix.
 */
export class CommitQueue<Owner extends object = object> {
  /** The stream this queue commits for (changes when a copytruncate copy takes the stream over). */
  owner: Owner | undefined;
  private ends: number[] = [];
  private settled: boolean[] = [];
  private head = 0;
  /** Index (in push numbering) of ends[0]. */
  private base = 0;

  constructor(
    public committed: number,
    owner?: Owner,
  ) {
    this.owner = owner;
  }

  /** Offset just after the last emitted byte (committed when nothing is pending). */
  get emitted(): number {
    return this.ends.length > this.head ? this.ends[this.ends.length - 1]! : this.committed;
  }

  get pending(): number {
    return this.ends.length - this.head;
  }

  /** Register an emitted chunk ending at `end`; returns its ticket for settle(). */
  push(end: number): number {
    this.ends.push(end);
    this.settled.push(false);
    return this.base + this.ends.length - 1;
  }

  /** Mark a chunk settled; returns true when the committed offset moved. */
  settle(ticket: number): boolean {
    const i = ticket - this.base;
    if (i < this.head || i >= this.ends.length || this.settled[i]) return false;
    this.settled[i] = true;
    if (i !== this.head) return false;
    while (this.head < this.ends.length && this.settled[this.head]) this.committed = this.ends[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.ends.length) {
      this.ends = this.ends.slice(this.head);
      this.settled = this.settled.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    return true;
  }
}
