// CreatePartitions (key 37), v0-3.
//
// Behaviour (the checks and messages of Kafka's ReplicationControlManager, one result per topic):
// - `count` is the new total; it must be larger than the current count, else INVALID_PARTITIONS ("Topic already
//   has N partition(s)." or "... would not be an increase."). Unknown topic: UNKNOWN_TOPIC_OR_PARTITION.
// - Manual assignments, when given, need one entry per added partition, each naming only this node (other ids
//   are not registered brokers) once, with the topic's replication factor: INVALID_REPLICA_ASSIGNMENT otherwise.
// - A topic named twice in one request is INVALID_REQUEST "Duplicate topic name." and not changed.
// - validateOnly checks everything and changes nothing. New partitions' logs are open when the answer is sent
//   (made off the event loop), or, when that takes longer than timeoutMs (above 0), the topic is answered
//   REQUEST_TIMED_OUT and its new partitions come on their own.
// - Authorization (Kafka's ControllerApis.createPartitions), after the duplicate check and before existence:
//   ALTER on each topic, else TOPIC_AUTHORIZATION_FAILED (no message).
//
// Version notes: v2 is the flexible encoding; v3 only changes quota behaviour (strict throttling), which does not
// apply here.
import * as Req from '../../protocol/generated/messages/CreatePartitionsRequest.js';
import * as Res from '../../protocol/generated/messages/CreatePartitionsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import type { TopicRecord } from '../../cluster/types.js';
import type { BrokerServices } from '../context.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeTopics } from '../../security/authorizer-helpers.js';

type TopicResult = Input<Res.CreatePartitionsTopicResult>;

export default defineHandler<Req.CreatePartitionsRequest, Res.CreatePartitionsResponse>(Req, Res, {
  async handle(ctx, req) {
    const s = ctx.services;
    const counts = new Map<string, number>();
    for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);

    const alterable = authorizationEnabled(ctx) ? authorizeTopics(ctx, 'ALTER', [...counts].filter(([, n]) => n === 1).map(([name]) => name)) : null;

    const results: TopicResult[] = [];
    const answered = new Set<string>();
    for (const t of req.topics) {
      if (answered.has(t.name)) continue;
      answered.add(t.name);
      if (counts.get(t.name)! > 1) {
        results.push(failed(t.name, new KafkaError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
        continue;
      }
      if (alterable !== null && !alterable.has(t.name)) {
        results.push({ name: t.name, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED, errorMessage: null });
        continue;
      }
      try {
        checkRequest(s, t);
        const readOnly = s.shadow?.readOnlyReason(t.name);
        if (readOnly !== undefined) throw new KafkaError(ErrorCode.POLICY_VIOLATION, `${readOnly}; its partition count follows the source`);
        const record = await s.topics.addPartitions(t.name, t.count, { validateOnly: req.validateOnly });
        // The registry's change listener opens the new logs; syncing again is harmless (see 19-create-topics.ts).
        if (!req.validateOnly) s.partitions.sync(record.name);
        results.push({ name: t.name, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof KafkaError)) s.logger.error({ err, topic: t.name }, 'create partitions failed');
        results.push(failed(t.name, err));
      }
    }
    if (!req.validateOnly) {
      await s.partitions.answerWhenReady(
        results,
        req.timeoutMs,
        (name) => `The new partitions of ${name} were not all ready within ${req.timeoutMs} ms; they are on their way.`,
      );
    }
    return { throttleTimeMs: 0, results };
  },
});

/**
 * The checks made before the registry's (which repeats the count check under its lock): Kafka checks the count
 * before the assignments, so a non-increase is reported as such even with bad assignments.
 */
function checkRequest(s: BrokerServices, t: Req.CreatePartitionsTopic): void {
  const topic = s.topics.get(t.name);
  if (!topic) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${t.name}`);
  if (t.count === topic.partitions) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${topic.partitions} partition(s).`);
  if (t.count < topic.partitions) {
    throw new KafkaError(
      ErrorCode.INVALID_PARTITIONS,
      `The topic ${t.name} currently has ${topic.partitions} partition(s); ${t.count} would not be an increase.`,
    );
  }
  if (t.assignments !== null) checkAssignments(s, topic, t.count - topic.partitions, t.assignments);
}

function checkAssignments(s: BrokerServices, topic: TopicRecord, additional: number, assignments: readonly Req.CreatePartitionsAssignment[]): void {
  const invalid = (message: string): KafkaError => new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, message);
  if (assignments.length !== additional) {
    throw invalid(`Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.`);
  }
  for (const a of assignments) {
    if (a.brokerIds.length === 0) throw invalid('The manual partition assignment includes an empty replica list.');
    const sorted = [...a.brokerIds].sort((x, y) => x - y);
    sorted.forEach((id, i) => {
      if (id !== s.nodeId) throw invalid(`The manual partition assignment includes broker ${id}, but no such broker is registered.`);
      if (i > 0 && sorted[i - 1] === id) throw invalid(`The manual partition assignment includes the broker ${id} more than once.`);
    });
    if (sorted.length !== topic.replicationFactor) {
      throw invalid(
        `The manual partition assignment includes a partition with ${sorted.length} replica(s), but this is not consistent with previous partitions, which have ${topic.replicationFactor} replica(s).`,
      );
    }
  }
}

function failed(name: string, err: unknown): TopicResult {
  return { name, errorCode: errorCodeOf(err), errorMessage: err instanceof KafkaError ? err.message : 'Unexpected server error; see the broker log' };
}
