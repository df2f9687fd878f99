// DeleteTopics (key 20), v1-6 (Kafka 4 removed v0).
//
// Behaviour:
// - With `delete.topic.enable=false` every topic fails: TOPIC_DELETION_DISABLED, or INVALID_REQUEST before v3
//   (the error did not exist yet), as Kafka's ControllerApis answers.
// - Topics are named (v1-5 `topicNames`; v6 `topics` with a name) or identified (v6, by topic id); a name or id
//   given twice (also: one topic given both by name and by id) is INVALID_REQUEST and not deleted; a v6 entry with
//   both a name and an id, or neither, is INVALID_REQUEST. An unknown name is UNKNOWN_TOPIC_OR_PARTITION, an
//   unknown id UNKNOWN_TOPIC_ID.
// - The broker's internal topics (__consumer_offsets, __transaction_state) are refused with INVALID_REQUEST.
// - Authorization (Kafka's ControllerApis.deleteTopics), after the checks above and the resolution of ids (an
//   unknown id is UNKNOWN_TOPIC_ID): DELETE on the cluster allows everything; else a topic needs DESCRIBE and
//   DELETE. By name: not describable → TOPIC_AUTHORIZATION_FAILED whether or not it exists; describable but unknown
//   → UNKNOWN_TOPIC_OR_PARTITION; not deletable → TOPIC_AUTHORIZATION_FAILED. By id: not deletable →
//   TOPIC_AUTHORIZATION_FAILED, naming the topic only when describable. "The provided topic name maps to an ID that
//   was already supplied" is only said to principals allowed to delete the topic (it would reveal the mapping).
// - Deletion is immediate: the partition logs are gone when the request is answered; timeoutMs is not waited on.
// - Results are in request order (Kafka shuffles them, which no client relies on) and carry the name and, from
//   v6, the topic id, whichever way the topic was given.
import * as Req from '../../protocol/generated/messages/DeleteTopicsRequest.js';
import * as Res from '../../protocol/generated/messages/DeleteTopicsResponse.js';
import { ZERO_UUID, type Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import type { BrokerServices } from '../context.js';
import { defineHandler } from '../registry.js';
import { authorizationEnabled, authorizeCluster, authorizeTopics } from '../../security/authorizer-helpers.js';

type TopicResult = Input<Res.DeletableTopicResult>;

/** One topic the request asks to delete: by name or by id. */
type Target = { name: string; topicId: null } | { name: null; topicId: string } | { invalid: KafkaError; name: string | null; topicId: string };

export default defineHandler<Req.DeleteTopicsRequest, Res.DeleteTopicsResponse>(Req, Res, {
  async handle(ctx, req, version) {
    const s = ctx.services;
    const targets = targetsOf(req);

    if (!s.config.deleteTopicEnable) {
      const err =
        version < 3
          ? new KafkaError(ErrorCode.INVALID_REQUEST, 'Topic deletion is disabled.')
          : new KafkaError(ErrorCode.TOPIC_DELETION_DISABLED, 'Topic deletion is disabled (delete.topic.enable=false).');
      return { throttleTimeMs: 0, responses: targets.map((t) => result(t.name, t.topicId ?? ZERO_UUID, err)) };
    }

    const names = new Map<string, number>();
    const ids = new Map<string, number>();
    for (const t of targets) {
      if ('invalid' in t) continue;
      if (t.name !== null) names.set(t.name, (names.get(t.name) ?? 0) + 1);
      else ids.set(t.topicId, (ids.get(t.topicId) ?? 0) + 1);
    }
    // A topic given once by name and once by id: Kafka deletes neither and says why.
    const givenTwice = new Set<string>();
    for (const [id, n] of ids) {
      const name = s.topics.getById(id)?.name;
      if (n === 1 && name !== undefined && names.get(name) === 1) givenTwice.add(name);
    }
    // null = every topic (authorization off, or DELETE on the cluster)
    let describable: Set<string> | null = null;
    let deletable: Set<string> | null = null;
    if (authorizationEnabled(ctx) && !authorizeCluster(ctx, 'DELETE', { logIfDenied: false })) {
      const toCheck = [...names.keys()];
      for (const id of ids.keys()) {
        const name = s.topics.getById(id)?.name;
        if (name !== undefined) toCheck.push(name);
      }
      describable = authorizeTopics(ctx, 'DESCRIBE', toCheck, { logIfDenied: false });
      deletable = authorizeTopics(ctx, 'DELETE', toCheck, { logIfDenied: false });
    }
    const refused = (name: string | null, topicId: string): TopicResult =>
      result(name, topicId, new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'));
    const twice = (name: string | null, topicId: string): TopicResult =>
      result(name, topicId, new KafkaError(ErrorCode.INVALID_REQUEST, 'The provided topic name maps to an ID that was already supplied.'));

    const responses: TopicResult[] = [];
    const answeredDuplicates = new Set<string>();
    for (const t of targets) {
      if ('invalid' in t) {
        responses.push(result(t.name, t.topicId, t.invalid));
      } else if (t.name !== null) {
        if (names.get(t.name)! > 1) {
          if (!answeredDuplicates.has(`name:${t.name}`)) responses.push(result(t.name, ZERO_UUID, new KafkaError(ErrorCode.INVALID_REQUEST, 'Duplicate topic name.')));
          answeredDuplicates.add(`name:${t.name}`);
        } else if (describable !== null && !describable.has(t.name)) {
          responses.push(refused(t.name, ZERO_UUID));
        } else if (!s.topics.has(t.name)) {
          responses.push(result(t.name, ZERO_UUID, new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${t.name}`)));
        } else if (deletable !== null && !deletable.has(t.name)) {
          responses.push(refused(t.name, ZERO_UUID));
        } else if (givenTwice.has(t.name)) {
          responses.push(twice(t.name, ZERO_UUID));
        } else {
          responses.push(await deleteByName(s, t.name));
        }
      } else if (ids.get(t.topicId)! > 1) {
        if (!answeredDuplicates.has(`id:${t.topicId}`)) responses.push(result(null, t.topicId, new KafkaError(ErrorCode.INVALID_REQUEST, 'Duplicate topic id.')));
        answeredDuplicates.add(`id:${t.topicId}`);
      } else {
        const topic = s.topics.getById(t.topicId);
        if (!topic) responses.push(result(null, t.topicId, new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, `No topic with id ${t.topicId} exists.`)));
        else if (deletable !== null && !deletable.has(topic.name)) responses.push(refused(describable!.has(topic.name) ? topic.name : null, t.topicId));
        else if (givenTwice.has(topic.name)) responses.push(twice(topic.name, t.topicId));
        else responses.push(await deleteByName(s, topic.name));
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

function targetsOf(req: Req.DeleteTopicsRequest): Target[] {
  const out: Target[] = req.topicNames.map((name) => ({ name, topicId: null }));
  for (const t of req.topics) {
    const hasId = t.topicId !== ZERO_UUID;
    if (t.name === null && !hasId) {
      out.push({ invalid: new KafkaError(ErrorCode.INVALID_REQUEST, 'Neither topic name nor id were specified.'), name: null, topicId: ZERO_UUID });
    } else if (t.name !== null && hasId) {
      out.push({ invalid: new KafkaError(ErrorCode.INVALID_REQUEST, 'You may not specify both topic name and topic id.'), name: t.name, topicId: t.topicId });
    } else if (t.name !== null) {
      out.push({ name: t.name, topicId: null });
    } else {
      out.push({ name: null, topicId: t.topicId });
    }
  }
  return out;
}

async function deleteByName(s: BrokerServices, name: string): Promise<TopicResult> {
  const topicId = s.topics.get(name)?.topicId ?? ZERO_UUID;
  try {
    const readOnly = s.shadow?.readOnlyReason(name);
    if (readOnly !== undefined) throw new KafkaError(ErrorCode.POLICY_VIOLATION, readOnly);
    await s.topics.delete(name);
  } catch (err) {
    if (!(err instanceof KafkaError)) s.logger.error({ err, topic: name }, 'delete topic failed');
    return result(name, topicId, err);
  }
  // The registry's change listener drops the logs; syncing again is harmless (see 19-create-topics.ts).
  s.partitions.sync(name);
  return { name, topicId, errorCode: ErrorCode.NONE, errorMessage: null };
}

function result(name: string | null, topicId: string, err: unknown): TopicResult {
  return {
    name,
    topicId,
    errorCode: errorCodeOf(err),
    errorMessage: err instanceof KafkaError ? err.message : 'Unexpected server error; see the broker log',
  };
}
