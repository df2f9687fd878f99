// Shadow-link metrics on the broker's /metrics (SPEC §2.4), read from the link manager at each scrape:
//   umbra_shadow_link_shadow_lag{link,topic,partition}          messages the shadow is behind the source HWM
//   umbra_shadow_link_rpo_seconds{link,topic,partition}         time since the partition was last caught up
//   umbra_shadow_link_{fetched_bytes,written_bytes,written_records,client_errors,gaps}_total{link}
//   umbra_shadow_link_topics{link,state}, umbra_shadow_link_tasks{link,task_state}
// No label ever carries a config value, so no secret can reach a metric.
import { Counter, Gauge, type Registry } from 'prom-client';
import { TASK_STATES, TOPIC_STATES } from './service.js';
import type { ShadowLinkManager } from './manager.js';
import type { LinkTotals } from './link.js';

export function registerShadowMetrics(registry: Registry, manager: ShadowLinkManager): void {
  const partitionGauge = (name: string, help: string, pick: (p: { lag: number; rpoSeconds: number }) => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['link', 'topic', 'partition'],
      registers: [registry],
      collect() {
        this.reset();
        for (const link of manager.allLinks()) {
          for (const t of link.status().topics) {
            if (t.state === 'FAILED_OVER' || t.state === 'PROMOTED') continue;
            for (const p of t.partitions) this.set({ link: link.name, topic: t.name, partition: p.partition }, pick(p));
          }
        }
      },
    });
  };
  partitionGauge('umbra_shadow_link_shadow_lag', 'Messages the shadow partition is behind the source high watermark', (p) => p.lag);
  partitionGauge('umbra_shadow_link_rpo_seconds', 'Seconds since the shadow partition last had everything the source had', (p) => p.rpoSeconds);

  const linkCounter = (name: string, help: string, pick: (t: LinkTotals) => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['link'],
      registers: [registry],
      collect() {
        this.reset();
        for (const link of manager.allLinks()) this.inc({ link: link.name }, pick(link.totals()));
      },
    });
  };
  linkCounter('umbra_shadow_link_fetched_bytes_total', 'Bytes of record batches fetched from the source', (t) => t.bytesFetched);
  linkCounter('umbra_shadow_link_written_bytes_total', 'Bytes of record batches written to shadow partitions', (t) => t.bytesWritten);
  linkCounter('umbra_shadow_link_written_records_total', 'Records written to shadow partitions', (t) => t.recordsWritten);
  linkCounter('umbra_shadow_link_client_errors_total', 'Failed requests to the source (fetch errors, unreachable source)', (t) => t.errors);
  linkCounter('umbra_shadow_link_gaps_total', 'Offset ranges skipped because the source deleted them before they were replicated', (t) => t.gaps);

  new Gauge({
    name: 'umbra_shadow_link_topics',
    help: 'Shadow topics per state',
    labelNames: ['link', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const link of manager.allLinks()) {
        const counts = new Map<string, number>(TOPIC_STATES.map((s) => [s, 0]));
        for (const t of link.topics.values()) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ link: link.name, state }, n);
      }
    },
  });
  new Gauge({
    name: 'umbra_shadow_link_tasks',
    help: 'Link tasks per state',
    labelNames: ['link', 'task_state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const link of manager.allLinks()) {
        const counts = new Map<string, number>(TASK_STATES.map((s) => [s, 0]));
        for (const t of link.taskStatuses()) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
        for (const [state, n] of counts) this.set({ link: link.name, task_state: state }, n);
      }
    },
  });
  new Gauge({
    name: 'umbra_shadow_link_task_state',
    help: '1 for the state each link task is in',
    labelNames: ['link', 'task', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const link of manager.allLinks()) for (const t of link.taskStatuses()) this.set({ link: link.name, task: t.name, state: t.state }, 1);
    },
  });
}
