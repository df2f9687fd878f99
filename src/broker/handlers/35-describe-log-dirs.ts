// DescribeLogDirs (key 35), v1-4. Behaviour: one log dir (the data directory's logs/), with the size of every
// requested partition (null topics = all); offsetLag is 0 (no future replicas); v4 adds the file system's total
// and usable bytes.
// Authorization (Kafka's handleDescribeLogDirsRequest): DESCRIBE on the cluster, else no results and the top-level
// error CLUSTER_AUTHORIZATION_FAILED (which v1-2 cannot carry: they just get no results).
import { statfsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as Req from '../../protocol/generated/messages/DescribeLogDirsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeLogDirsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode } from '../../protocol/errors.js';
import { defineHandler } from '../registry.js';
import { authorizeCluster } from '../../security/authorizer-helpers.js';

export default defineHandler<Req.DescribeLogDirsRequest, Res.DescribeLogDirsResponse>(Req, Res, {
  handle(ctx, req) {
    if (!authorizeCluster(ctx, 'DESCRIBE')) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
    const { partitions, config } = ctx.services;
    const logDir = resolve(config.dataDir, 'logs');
    const wanted = req.topics === null ? partitions.list().map((t) => ({ topic: t.name, partitions: null as number[] | null })) : req.topics;
    const topics: Input<Res.DescribeLogDirsTopic>[] = [];
    for (const t of wanted) {
      const logs = partitions.logs(t.topic);
      if (logs.length === 0) continue;
      // a partition whose log is still being created has none to describe yet
      const selected = (t.partitions === null ? logs : t.partitions.map((p) => logs[p])).filter((l) => l !== undefined);
      topics.push({ name: t.topic, partitions: selected.map((l) => ({ partitionIndex: l.partition, partitionSize: l.sizeInBytes, offsetLag: 0, isFutureKey: false })) });
    }
    let totalBytes = -1;
    let usableBytes = -1;
    try {
      const st = statfsSync(config.dataDir);
      totalBytes = st.blocks * st.bsize;
      usableBytes = st.bavail * st.bsize;
    } catch {
      // the sizes are informational; -1 means unknown
    }
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, results: [{ errorCode: ErrorCode.NONE, logDir, topics, totalBytes, usableBytes }] };
  },
});
