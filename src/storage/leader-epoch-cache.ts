// Leader epoch → first offset written in that epoch, the data behind OffsetForLeaderEpoch (KIP-101/KIP-279).
// Persisted as Kafka's `leader-epoch-checkpoint` text: "0\n<count>\n<epoch> <startOffset>\n...".

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;

export class LeaderEpochCache {
  private entries: EpochEntry[];

  constructor(entries: EpochEntry[] = []) {
    this.entries = entries;
  }

  get latestEpoch(): number {
    return this.entries.length === 0 ? UNDEFINED_EPOCH : this.entries[this.entries.length - 1]!.epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Only a larger epoch is added (a batch of the current or an older
   * epoch changes nothing); entries that the new one contradicts (start at or after its offset) are dropped.
   * Returns whether the cache changed.
   */
  assign(epoch: number, startOffset: number): boolean {
    if (epoch < 0) return false;
    const latest = this.entries[this.entries.length - 1];
    if (latest !== undefined && epoch <= latest.epoch) return false;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= startOffset) this.entries.pop();
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Kafka's LeaderEpochFileCache.endOffsetFor. */
  endOffsetFor(requestedEpoch: number, logEndOffset: number): { leaderEpoch: number; endOffset: number } {
    if (requestedEpoch === UNDEFINED_EPOCH) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === this.latestEpoch) return { leaderEpoch: requestedEpoch, endOffset: logEndOffset };
    // smallest epoch above the requested one; its start is where the requested epoch ended
    const higher = this.entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    let floor: EpochEntry | undefined;
    for (const e of this.entries) if (e.epoch <= requestedEpoch) floor = e;
    return { leaderEpoch: floor ? floor.epoch : requestedEpoch, endOffset: higher.startOffset };
  }

  /** Log truncated to `endOffset`: epochs that start at or beyond it never happened here. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= endOffset) this.entries.pop();
    return this.entries.length !== before;
  }

  /** Log start moved to `startOffset`: the epoch in force there now starts there; older ones go. */
  truncateFromStart(startOffset: number): boolean {
    let lastBelow = -1;
    for (let i = 0; i < this.entries.length; i++) if (this.entries[i]!.startOffset < startOffset) lastBelow = i;
    if (lastBelow < 0) return false;
    const kept = { epoch: this.entries[lastBelow]!.epoch, startOffset };
    this.entries = [kept, ...this.entries.slice(lastBelow + 1)];
    return true;
  }

  clear(): void {
    this.entries = [];
  }

  serialize(): string {
    return `0\n${this.entries.length}\n${this.entries.map((e) => `${e.epoch} ${e.startOffset}\n`).join('')}`;
  }

  /** Entries of a checkpoint file, or null when it does not parse or is not increasing. */
  static parse(text: string): EpochEntry[] | null {
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines[0] !== '0' || lines.length < 2) return null;
    const count = Number(lines[1]);
    if (!Number.isInteger(count) || count !== lines.length - 2) return null;
    const entries: EpochEntry[] = [];
    for (const line of lines.slice(2)) {
      const m = /^(\d+) (\d+)$/.exec(line);
      if (!m) return null;
      const e = { epoch: Number(m[1]), startOffset: Number(m[2]) };
      const prev = entries[entries.length - 1];
      if (prev && (e.epoch <= prev.epoch || e.startOffset < prev.startOffset)) return null;
      entries.push(e);
    }
    return entries;
  }
}
