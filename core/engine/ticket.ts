/**
 * A ticket follows one emitted chunk through the pipeline. Every output it was routed to
 * settles it once (ack or drop); when all have, the input hears about it (tail commits
 * offsets on that — the end-to-end acknowledgement).
 */
import type { Settlement } from '../plugin/define.js';

export class Ticket {
  private pending = 0;
  private dropped = false;
  private settled = false;
  /** expect() was called: routing is done (a hold released before that must not settle). */
  private routed = false;
  constructor(private readonly onSettled?: (s: Settlement) => void) {}

  /** Called once routing knows how many outputs received the chunk (0 settles at once). */
  expect(outputs: number): void {
    this.pending += outputs;
    this.routed = true;
    if (this.pending === 0) this.finish();
  }

  /**
   * Keep the chunk unsettled until the returned release is called (once): a filter that holds
   * some of its records (multiline) releases when they were delivered in a later chunk.
   */
  hold(): (delivered: boolean) => void {
    this.pending++;
    let done = false;
    return (delivered) => {
      if (done) return;
      done = true;
      if (delivered) this.ack();
      else this.drop();
    };
  }

  ack(): void {
    if (--this.pending === 0) this.finish();
  }

  drop(): void {
    this.dropped = true;
    if (--this.pending === 0) this.finish();
  }

  private finish(): void {
    if (this.settled || !this.routed) return;
    this.settled = true;
    this.onSettled?.({ delivered: !this.dropped });
  }
}
