// Shadow links and their shadow topics in the cluster metadata store, so that links, states and replication
// survive a restart (SPEC §2.2). Two key families:
//
//   shadow-links/<link>             StoredLink: the config in the file format (secrets included: the link needs
//                                   them to reconnect), the link state and timestamps
//   shadow-topics/<link>/<topic>    StoredShadowTopic: which source topic (by id) the shadow topic follows, its
//                                   state and reason, and the gaps replication recorded
//
// The secrets are kept as written; nothing reads these records for output except through redactLinkConfig.
import type { MetadataStore } from '../cluster/types.js';
import { toLinkConfigDocument, validateLinkConfig, type LinkConfigDocument } from './config.js';
import type { LinkState, TopicState } from './service.js';
import type { ShadowLinkConfig } from './types.js';

const LINK_PREFIX = 'shadow-links/';
const TOPIC_PREFIX = 'shadow-topics/';
/** gaps kept per topic in the store (the oldest are dropped beyond this) */
const MAX_STORED_GAPS = 100;

export interface StoredLink {
  config: LinkConfigDocument;
  state: LinkState;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface StoredGap {
  partition: number;
  from: number;
  to: number;
  detectedAtMs: number;
}

export interface StoredShadowTopic {
  link: string;
  name: string;
  /** the source topic id when the shadow topic was created ('' when the source has no topic ids) */
  sourceTopicId: string;
  state: TopicState;
  reason: string;
  createdAtMs: number;
  updatedAtMs: number;
  gaps: StoredGap[];
  /** partitions the topic had when the link created it; partitions added later start at the source's log start */
  initialPartitions?: number;
  /** partitions whose start position was chosen (start_at_*): after that they always resume, never re-choose */
  startedPartitions?: number[];
}

export interface LoadedLink {
  config: ShadowLinkConfig;
  stored: StoredLink;
  topics: StoredShadowTopic[];
}

export class ShadowLinkStore {
  constructor(private readonly store: MetadataStore) {}

  /** Every stored link with its topics, in name order. */
  load(): LoadedLink[] {
    const topicsByLink = new Map<string, StoredShadowTopic[]>();
    for (const [, t] of this.store.list<StoredShadowTopic>(TOPIC_PREFIX)) {
      const list = topicsByLink.get(t.link);
      if (list) list.push(t);
      else topicsByLink.set(t.link, [t]);
    }
    return this.store.list<StoredLink>(LINK_PREFIX).map(([, stored]) => ({
      config: validateLinkConfig(stored.config),
      stored,
      topics: topicsByLink.get(stored.config.name) ?? [],
    }));
  }

  async putLink(cfg: ShadowLinkConfig, state: LinkState, createdAtMs: number): Promise<StoredLink> {
    const stored: StoredLink = { config: toLinkConfigDocument(cfg, { revealSecrets: true }), state, createdAtMs, updatedAtMs: Date.now() };
    await this.store.put(LINK_PREFIX + cfg.name, stored);
    return stored;
  }

  async putTopic(topic: StoredShadowTopic): Promise<void> {
    const gaps = topic.gaps.length > MAX_STORED_GAPS ? topic.gaps.slice(-MAX_STORED_GAPS) : topic.gaps;
    await this.store.put(`${TOPIC_PREFIX}${topic.link}/${topic.name}`, { ...topic, gaps });
  }

  async deleteTopic(link: string, topic: string): Promise<void> {
    await this.store.delete(`${TOPIC_PREFIX}${link}/${topic}`);
  }

  /** Removes the link and its topic records (never the topics themselves). */
  async deleteLink(name: string): Promise<void> {
    const ops = this.store.list(`${TOPIC_PREFIX}${name}/`).map(([key]) => ({ op: 'delete' as const, key }));
    ops.push({ op: 'delete', key: LINK_PREFIX + name });
    await this.store.batch(ops);
  }
}
