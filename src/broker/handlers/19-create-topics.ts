// CreateTopics (key 19), v2-7 (Kafka 4 removed v0-1).
//
// Behaviour:
// - Each topic gets its own result: error code and message, never a failure of the whole request. The checks
//   (name, already exists, partitions, replication factor, manual assignment, configs) are the TopicRegistry's,
//   with Kafka's codes; a name given twice in one request is INVALID_REQUEST "Duplicate topic name." and neither
//   copy is created; `__cluster_metadata` is refused as Kafka refuses it.
// - numPartitions / replicationFactor -1 take num.partitions / default.replication.factor. A manual assignment
//   may only name this node (any other id is INVALID_REPLICA_ASSIGNMENT: no such broker is registered).
// - A config given twice for one topic: the last value wins (Kafka keys them by name the same way).
// - validateOnly checks everything and answers as if created (with a topic id that is then never used, as
//   Kafka's controller does), creating nothing.
// - The answer waits until the created topics' partition logs exist (made off the event loop, other clients are
//   served meanwhile), so Produce can follow at once; at most timeoutMs when it is above 0: a topic whose logs are
//   not all there by then is answered REQUEST_TIMED_OUT and its creation goes on, as Kafka answers a creation
//   that did not complete within timeoutMs.
// - Authorization (Kafka's ControllerApis.createTopics), after the duplicate and __cluster_metadata checks: CREATE
//   on the cluster, else CREATE on each topic (TOPIC_AUTHORIZATION_FAILED "Authorization failed." otherwise). A
//   topic created by a principal without DESCRIBE_CONFIGS on it is created but answered without its configs,
//   partition count and replication factor (-1), with topicConfigErrorCode TOPIC_AUTHORIZATION_FAILED (v5+).
//
// Version notes: v5 adds numPartitions, replicationFactor and the effective configs (with sources) of each created
// topic, v7 the topic id. The codec leaves out what a version does not have.
import * as Req from '../../protocol/generated/messages/CreateTopicsRequest.js';
import * as Res from '../../protocol/generated/messages/CreateTopicsResponse.js';
import { ZERO_UUID, type Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import { describeConfigEntries, resolveTopicConfig } from '../../cluster/topic-config.js';
import type { TopicRecord } from '../../cluster/types.js';
import type { BrokerServices } from '../context.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopicCreation, authorizeTopics } from '../../security/authorizer-helpers.js';

/** KRaft's own metadata log; Kafka refuses it as a user topic name. */
const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

type TopicResult = Input<Res.CreatableTopicResult>;

export default defineHandler<Req.CreateTopicsRequest, Res.CreateTopicsResponse>(Req, Res, {
  async handle(ctx, req, version) {
    const s = ctx.services;
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const t of req.topics) {
      if (seen.has(t.name)) duplicates.add(t.name);
      seen.add(t.name);
    }

    // null = every name (authorization off)
    let creatable: Set<string> | null = null;
    let describable: Set<string> | null = null;
    if (authorizationEnabled(ctx)) {
      const candidates = [...seen].filter((n) => !duplicates.has(n) && n !== CLUSTER_METADATA_TOPIC);
      creatable = authorizeTopicCreation(ctx, candidates);
      describable = authorizeTopics(ctx, 'DESCRIBE_CONFIGS', candidates, { logIfDenied: false });
    }

    const topics: TopicResult[] = [];
    const answered = new Set<string>();
    for (const t of req.topics) {
      if (answered.has(t.name)) continue; // one result per name, as Kafka's response is keyed by name
      answered.add(t.name);
      if (duplicates.has(t.name)) {
        topics.push(failed(t.name, new KafkaError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
      } else if (t.name === CLUSTER_METADATA_TOPIC) {
        topics.push(failed(t.name, new KafkaError(ErrorCode.INVALID_REQUEST, `Creation of internal topic ${CLUSTER_METADATA_TOPIC} is prohibited.`)));
      } else if (creatable !== null && !creatable.has(t.name)) {
        topics.push(failed(t.name, new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Authorization failed.')));
      } else {
        topics.push(await createOne(s, t, req.validateOnly, version, describable === null || describable.has(t.name)));
      }
    }
    if (!req.validateOnly) {
      await s.partitions.answerWhenReady(
        topics,
        req.timeoutMs,
        (name) => `Topic ${name} was created, but not all of its partitions were ready within ${req.timeoutMs} ms; they are on their way.`,
      );
    }
    return { throttleTimeMs: 0, topics };
  },
});

async function createOne(s: BrokerServices, t: Req.CreatableTopic, validateOnly: boolean, version: number, describable: boolean): Promise<TopicResult> {
  const configs: Record<string, string | null> = {};
  for (const c of t.configs) configs[c.name] = c.value;
  let record: TopicRecord;
  try {
    const refused = s.topics.has(t.name) ? undefined : s.shadow?.createReason(t.name);
    if (refused !== undefined) throw new KafkaError(ErrorCode.POLICY_VIOLATION, refused);
    record = await s.topics.create(
      {
        name: t.name,
        partitions: t.numPartitions,
        replicationFactor: t.replicationFactor,
        assignments: t.assignments.map((a) => ({ partitionIndex: a.partitionIndex, brokerIds: a.brokerIds })),
        configs,
      },
      { validateOnly },
    );
  } catch (err) {
    if (!(err instanceof KafkaError)) s.logger.error({ err, topic: t.name }, 'create topic failed');
    return failed(t.name, err);
  }
  // The registry's change listener opens the logs; syncing again is harmless and keeps this handler correct
  // on its own (tests that build services without the broker's wiring).
  if (!validateOnly) s.partitions.sync(record.name);
  if (!describable) {
    // created, but what it was created with is for principals that may describe its configs
    return {
      name: record.name,
      topicId: record.topicId,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      topicConfigErrorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED,
      numPartitions: -1,
      replicationFactor: -1,
      configs: [],
    };
  }
  return {
    name: record.name,
    topicId: record.topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    topicConfigErrorCode: ErrorCode.NONE,
    numPartitions: record.partitions,
    replicationFactor: record.replicationFactor,
    configs: version >= 5 ? effectiveConfigs(s, record) : [],
  };
}

/** Every topic config with its value and source, sorted by name (what Kafka's controller returns from v5). */
function effectiveConfigs(s: BrokerServices, record: TopicRecord): Input<Res.CreatableTopicConfigs>[] {
  // From the record rather than the registry: a validateOnly topic is not in the registry.
  const resolved = resolveTopicConfig(record.configs, s.config.staticBrokerConfigs);
  return describeConfigEntries(resolved).map((e) => ({
    name: e.name,
    value: e.value,
    readOnly: e.readOnly,
    configSource: e.configSource,
    isSensitive: e.isSensitive,
  }));
}

function failed(name: string, err: unknown): TopicResult {
  return {
    name,
    topicId: ZERO_UUID,
    errorCode: errorCodeOf(err),
    errorMessage: err instanceof KafkaError ? err.message : 'Unexpected server error; see the broker log',
    numPartitions: -1,
    replicationFactor: -1,
    configs: [],
  };
}
