// The broker's Prometheus metrics, in one prom-client Registry of its own (never the global default registry, so
// several brokers in one test process do not collide).
//
// The hot path (every request, every socket read and write) only bumps plain numbers in objects created once per
// API name: prom-client's labelled children hash their label object on every call, which allocates. The numbers are
// copied into prom-client metrics when Prometheus scrapes, through collect callbacks (counters, gauges) or an
// overridden get() (the latency histogram, whose buckets prom-client cannot set from outside).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Request latency buckets, seconds: from 100 µs (an in-memory Metadata) to 30 s (long Fetch polls). */
export const LATENCY_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What the partition gauges read at scrape time (a PartitionLog has these fields). */
export interface PartitionStats {
  readonly topic: string;
  readonly partition: number;
  readonly sizeInBytes: number;
  readonly highWatermark: number;
}

export type PartitionStatsSource = () => Iterable<PartitionStats>;

/** Prometheus text exposition, for GET /metrics. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

class ApiStats {
  requests = 0;
  errors = 0;
  latencySum = 0;
  /** non-cumulative counts per bucket; the last slot is +Inf */
  readonly latencyBuckets = new Float64Array(LATENCY_BUCKETS.length + 1);
  constructor(readonly api: string) {}
}

export interface BrokerMetricsOptions {
  /** API names exported from the first scrape on (with zeros); others appear once first seen */
  apiNames?: Iterable<string>;
  /** process and Node.js runtime metrics (umbra_process_*, umbra_nodejs_*); default true */
  defaultMetrics?: boolean;
}

export class BrokerMetrics implements MetricsSource {
  readonly registry = new Registry();
  private readonly apis = new Map<string, ApiStats>();
  private bytesInTotal = 0;
  private bytesOutTotal = 0;
  private openConnections = 0;
  private partitionSource: PartitionStatsSource = () => [];
  private fetchSessionSource: () => { sessions: number; partitions: number } = () => ({ sessions: 0, partitions: 0 });

  constructor(opts: BrokerMetricsOptions = {}) {
    for (const name of opts.apiNames ?? []) this.stats(name);
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'umbra_' });

    // collect callbacks run with `this` bound to the metric, so the broker's numbers are reached through `self`
    const self = this;
    new Counter({
      name: 'umbra_requests_total',
      help: 'Kafka requests handled, by API',
      labelNames: ['api'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of self.apis.values()) this.inc({ api: s.api }, s.requests);
      },
    });
    new Counter({
      name: 'umbra_request_errors_total',
      help: 'Kafka requests whose handler failed (the connection was closed), by API',
      labelNames: ['api'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of self.apis.values()) this.inc({ api: s.api }, s.errors);
      },
    });
    this.registry.registerMetric(new LatencyHistogram(() => self.apis.values()));
    new Counter({
      name: 'umbra_bytes_in_total',
      help: 'Bytes read from Kafka client connections',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.bytesInTotal);
      },
    });
    new Counter({
      name: 'umbra_bytes_out_total',
      help: 'Bytes written to Kafka client connections',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(self.bytesOutTotal);
      },
    });
    new Gauge({
      name: 'umbra_connections',
      help: 'Open Kafka client connections',
      registers: [this.registry],
      collect() {
        this.set(self.openConnections);
      },
    });
    new Gauge({
      name: 'umbra_fetch_sessions',
      help: 'Incremental fetch sessions (KIP-227) the broker keeps',
      registers: [this.registry],
      collect() {
        this.set(self.fetchSessionSource().sessions);
      },
    });
    new Gauge({
      name: 'umbra_fetch_session_partitions',
      help: 'Partitions held by all incremental fetch sessions',
      registers: [this.registry],
      collect() {
        this.set(self.fetchSessionSource().partitions);
      },
    });
    new Gauge({
      name: 'umbra_partition_log_size_bytes',
      help: 'Bytes on disk of a partition log (all segments)',
      labelNames: ['topic', 'partition'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of self.partitionSource()) this.set({ topic: p.topic, partition: p.partition }, p.sizeInBytes);
      },
    });
    new Gauge({
      name: 'umbra_partition_high_watermark',
      help: 'High watermark (next offset to be committed) of a partition',
      labelNames: ['topic', 'partition'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const p of self.partitionSource()) this.set({ topic: p.topic, partition: p.partition }, p.highWatermark);
      },
    });
  }

  // ---- hot path: no allocation once an API name has been seen ----

  observeRequest(apiName: string, seconds: number): void {
    const s = this.apis.get(apiName) ?? this.stats(apiName);
    s.requests++;
    s.latencySum += seconds;
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    s.latencyBuckets[i]!++;
  }

  requestError(apiName: string): void {
    (this.apis.get(apiName) ?? this.stats(apiName)).errors++;
  }

  bytesIn(n: number): void {
    this.bytesInTotal += n;
  }

  bytesOut(n: number): void {
    this.bytesOutTotal += n;
  }

  connectionOpened(): void {
    this.openConnections++;
  }

  connectionClosed(): void {
    this.openConnections--;
  }

  // ---- wiring and exposition ----

  /** Where the fetch-session gauges come from (the broker's FetchSessionCache), read at each scrape. */
  setFetchSessionSource(source: () => { sessions: number; partitions: number }): void {
    this.fetchSessionSource = source;
  }

  /** Where the per-partition gauges come from (e.g. `() => storage.logs()`), read at each scrape. */
  setPartitionSource(source: PartitionStatsSource): void {
    this.partitionSource = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private stats(apiName: string): ApiStats {
    const s = new ApiStats(apiName);
    this.apis.set(apiName, s);
    return s;
  }
}

/** One line of the exposition as prom-client's Registry formats it (histograms keep per-series labels apart). */
interface ExpositionValue {
  metricName: string;
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
}

/**
 * umbra_request_latency_seconds, exported from ApiStats at scrape time. prom-client's Registry renders a histogram
 * through getForPromString() (and Histogram.get() builds on it), so that is the one method replaced here.
 */
class LatencyHistogram extends Histogram<'api'> {
  constructor(private readonly source: () => Iterable<ApiStats>) {
    super({
      name: 'umbra_request_latency_seconds',
      help: 'Time from a request being read to its response being queued, by API',
      labelNames: ['api'],
      buckets: [...LATENCY_BUCKETS],
      registers: [],
    });
  }

  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExpositionValue[] }> {
    const name = 'umbra_request_latency_seconds';
    const values: ExpositionValue[] = [];
    for (const s of this.source()) {
      const api = { api: s.api };
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += s.latencyBuckets[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le: LATENCY_BUCKETS[i]! }, sharedLabels: api, value: cumulative });
      }
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, sharedLabels: api, value: s.requests });
      values.push({ metricName: `${name}_sum`, labels: {}, sharedLabels: api, value: s.latencySum });
      values.push({ metricName: `${name}_count`, labels: {}, sharedLabels: api, value: s.requests });
    }
    return { name, help: 'Time from a request being read to its response being queued, by API', type: 'histogram', aggregator: 'sum', values };
  }
}
