// IncrementalAlterConfigs (key 44), v0-1.
//
// Behaviour, resource by resource (checks as Kafka's ConfigAdminManager and controller make them):
// - A resource given twice: both get INVALID_REQUEST "Each resource must appear at most once.". A key given twice
//   is INVALID_REQUEST; so is a null value for any operation but DELETE, and an unknown operation code.
// - TOPIC (2): SET / DELETE a key, APPEND to / SUBTRACT from a LIST key (cleanup.policy, ...), all checked before
//   any is applied (TopicRegistry.incrementalAlterConfigs): bad names or values are INVALID_CONFIG naming the key,
//   an unknown topic UNKNOWN_TOPIC_OR_PARTITION, "" INVALID_REQUEST. The partition logs obey the new configuration
//   when the answer is sent.
// - BROKER (4): there are no dynamic broker configs here (they are set in the config file, read at start): SET,
//   APPEND and SUBTRACT are INVALID_REQUEST "Cannot update these configs dynamically: ...", Kafka's answer for its
//   read-only broker configs; DELETE-only changes succeed (no dynamic value exists to delete), as in Kafka. The
//   name must be this node's id or "" (cluster default), else INVALID_REQUEST.
// - BROKER_LOGGER (8): log levels cannot be changed at runtime (DescribeConfigs lists no loggers), so SET and
//   DELETE name a logger that does not exist: INVALID_CONFIG, as Kafka answers for an unknown logger; APPEND and
//   SUBTRACT are INVALID_REQUEST. The name must be this node's id.
// - GROUP, CLIENT_METRICS and unknown types: INVALID_REQUEST.
// - validateOnly checks everything and changes nothing.
// - Authorization (Kafka's ConfigAdminManager.preprocess and ControllerApis.authorizeAlterResource), after the
//   duplicate, key, null-value checks (and a BROKER resource's node id) but before the operations are validated:
//   BROKER, BROKER_LOGGER (and CLIENT_METRICS) need ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED), a
//   TOPIC on the topic (TOPIC_AUTHORIZATION_FAILED, also for unknown topics), a GROUP on the group
//   (GROUP_AUTHORIZATION_FAILED).
//
// Version notes: v1 is the flexible encoding.
import * as Req from '../../protocol/generated/messages/IncrementalAlterConfigsRequest.js';
import * as Res from '../../protocol/generated/messages/IncrementalAlterConfigsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { ALTER_CONFIG_OP_BY_CODE, type AlterConfigOp } from '../../cluster/topics.js';
import type { BrokerServices } from '../context.js';
import { defineHandler } from '../registry.js';
import { ConfigResourceType, configResourceAuthorizationError, requireThisNode, resourceError } from './32-describe-configs.js';
import { checkConfigNames, checkNoNullValues, refuseDynamicBrokerConfigs, repeatedResources, requireTopicName, unsupportedResourceType } from './33-alter-configs.js';

type ResourceResult = Input<Res.AlterConfigsResourceResponse>;

export default defineHandler<Req.IncrementalAlterConfigsRequest, Res.IncrementalAlterConfigsResponse>(Req, Res, {
  async handle(ctx, req) {
    const s = ctx.services;
    const repeated = repeatedResources(req.resources);
    const responses: ResourceResult[] = [];
    for (const resource of req.resources) {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      try {
        if (repeated.has(resource)) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
        checkConfigNames(resource.configs.map((c) => c.name));
        checkNoNullValues(resource.configs.filter((c) => ALTER_CONFIG_OP_BY_CODE[c.configOperation] !== 'DELETE'));
        if (resource.resourceType === ConfigResourceType.BROKER && resource.resourceName !== '') requireThisNode(resource.resourceName, s.nodeId, true);
        const denied = configResourceAuthorizationError(ctx, 'ALTER_CONFIGS', resource);
        if (denied) throw denied;
        await alterResource(s, resource, opsOf(resource), req.validateOnly);
        responses.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof KafkaError)) s.logger.error({ err, resource: base }, 'incremental alter configs failed');
        responses.push({ ...base, ...resourceError(err) });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

function opsOf(resource: Req.AlterConfigsResource): AlterConfigOp[] {
  return resource.configs.map((c) => {
    const op = ALTER_CONFIG_OP_BY_CODE[c.configOperation];
    if (!op) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operation type ${c.configOperation} for config ${c.name}`);
    return { name: c.name, op, value: c.value };
  });
}

async function alterResource(s: BrokerServices, resource: Req.AlterConfigsResource, ops: AlterConfigOp[], validateOnly: boolean): Promise<void> {
  const name = resource.resourceName;
  switch (resource.resourceType) {
    case ConfigResourceType.TOPIC:
      requireTopicName(name);
      {
        const refused = s.shadow?.configChangeReason(name, ops.map((o) => o.name));
        if (refused !== undefined) throw new KafkaError(ErrorCode.POLICY_VIOLATION, refused);
      }
      await s.topics.incrementalAlterConfigs(name, ops, { validateOnly });
      // The registry's change listener updates the logs; syncing again is harmless (see 19-create-topics.ts).
      if (!validateOnly) s.partitions.sync(name);
      return;
    case ConfigResourceType.BROKER:
      if (name !== '') requireThisNode(name, s.nodeId, true);
      refuseDynamicBrokerConfigs(ops.filter((o) => o.op !== 'DELETE').map((o) => o.name));
      return;
    case ConfigResourceType.BROKER_LOGGER:
      requireThisNode(name, s.nodeId, false);
      // every op fails, so the first one decides the answer (Kafka validates them in order)
      if (ops[0] === undefined) return;
      if (ops[0].op === 'APPEND' || ops[0].op === 'SUBTRACT') {
        throw new KafkaError(ErrorCode.INVALID_REQUEST, `${ops[0].op} operation is not allowed for the BROKER_LOGGER resource`);
      }
      throw new KafkaError(
        ErrorCode.INVALID_CONFIG,
        `Logger ${ops[0].name} does not exist! This broker cannot change log levels at runtime; set log_level in its config file.`,
      );
    default:
      throw unsupportedResourceType(resource.resourceType, 'IncrementalAlterConfigs');
  }
}
