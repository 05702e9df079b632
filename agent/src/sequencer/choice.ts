/** Which sequencer to talk to now: the lease holder, unless it failed lately (then none, for a while). */
import type { SequencerAddress } from "./wire.js";

export class SequencerChoice {
  private suspect: { readonly owner: string; readonly until: number } | null = null;

  constructor(
    /** The lease holder's address, or null (none, or this agent is it). */
    private readonly current: () => SequencerAddress | null,
    /** How long a holder that failed is left alone (ms). */
    private readonly suspectMs: number,
  ) {}

  /** The sequencer to use now: null when there is none, it is this agent, or it failed lately. */
  target(): SequencerAddress | null {
    const address = this.current();
    if (!address) return null;
    const suspect = this.suspect;
    if (suspect && suspect.owner === address.owner && Date.now() < suspect.until) return null;
    return address;
  }

  /** `target` failed: left alone for suspectMs. */
  failed(target: SequencerAddress): void {
    this.suspect = { owner: target.owner, until: Date.now() + this.suspectMs };
  }
}
