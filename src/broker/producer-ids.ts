// Producer id allocation for InitProducerId. Ids are handed out from blocks reserved durably in the metadata
// store, so a restart never reissues an id. The allocator can be raised (never lowered) above ids found in the
// logs: shadow replication copies other clusters' producer ids, and producers created after a failover must
// never collide with replicated idempotence state.
import type { MetadataStore } from '../cluster/types.js';

const KEY = 'producer-ids/next-block';
const BLOCK = 1000;

export class ProducerIdManager {
  private next = 0;
  private blockEnd = 0;
  private readonly store: MetadataStore;
  private reserving: Promise<void> | null = null;

  constructor(store: MetadataStore) {
    this.store = store;
    const stored = store.get<number>(KEY) ?? 0;
    this.next = stored;
    this.blockEnd = stored;
  }

  /** Ensures every future id is greater than `id`. */
  async raiseAbove(id: number): Promise<void> {
    if (id < this.next) return;
    this.next = id + 1;
    if (this.next >= this.blockEnd) await this.reserve();
  }

  async allocate(): Promise<number> {
    while (this.next >= this.blockEnd) await this.reserve();
    return this.next++;
  }

  private async reserve(): Promise<void> {
    if (!this.reserving) {
      this.reserving = (async () => {
        const end = Math.max(this.blockEnd, this.next) + BLOCK;
        await this.store.put(KEY, end);
        this.blockEnd = end;
      })().finally(() => {
        this.reserving = null;
      });
    }
    await this.reserving;
  }
}
