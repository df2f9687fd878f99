// DescribeConfigs (key 32), v1-4 (Kafka 4 removed v0).
//
// Behaviour, resource by resource (an error is that resource's error code and message, never the whole request's):
// - TOPIC (2): every topic config with its effective value and source (TOPIC_CONFIG for an override,
//   STATIC_BROKER_CONFIG for a broker-wide default from the config file, DEFAULT_CONFIG otherwise); an illegal name
//   is INVALID_TOPIC_EXCEPTION, an unknown topic UNKNOWN_TOPIC_OR_PARTITION.
// - BROKER (4): this node's id lists every broker config the broker honours, all read-only (there are no dynamic
//   broker configs); "" is the cluster-wide dynamic default, which is always empty here, so it answers an empty
//   list, as Kafka does with no dynamic defaults set. Any other id is INVALID_REQUEST (Kafka's ConfigHelper).
// - BROKER_LOGGER (8): this node's id answers an empty list (no logger's level can be changed at runtime, see
//   44-incremental-alter-configs.ts); an empty or foreign id is INVALID_REQUEST, as in Kafka.
// - CLIENT_METRICS (16), GROUP (32) and unknown types: INVALID_REQUEST "Unsupported resource type".
// - configurationKeys null or empty = all keys; unknown requested keys are left out (Kafka returns only keys it knows).
//   Sensitive values are null. Synonyms only with includeSynonyms; documentation only with includeDocumentation.
// - Authorization (Kafka's ConfigHelper), before anything else about a resource: BROKER, BROKER_LOGGER and
//   CLIENT_METRICS need DESCRIBE_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED), a TOPIC on the topic
//   (TOPIC_AUTHORIZATION_FAILED, also for topics that do not exist), a GROUP on the group
//   (GROUP_AUTHORIZATION_FAILED), each with the error's standard message and no configs.
//
// Version notes: v1 added includeSynonyms and the config source, v3 includeDocumentation and configType, v4 is
// the flexible encoding. The generated codec drops the fields a version does not have.
import * as Req from '../../protocol/generated/messages/DescribeConfigsRequest.js';
import * as Res from '../../protocol/generated/messages/DescribeConfigsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError, errorCodeOf } from '../../protocol/errors.js';
import { validateTopicName } from '../../cluster/topics.js';
import { describeConfigEntries } from '../../cluster/topic-config.js';
import { resolveBrokerConfig, type BrokerIdentityConfigs } from '../../cluster/broker-configs.js';
import type { BrokerServices, RequestContext } from '../context.js';
import { authorize, authorizeCluster, type Operation } from '../../security/authorizer-helpers.js';
import { defineHandler } from '../registry.js';

/** Kafka's ConfigResource.Type ids (shared with AlterConfigs and IncrementalAlterConfigs). */
export const ConfigResourceType = {
  UNKNOWN: 0,
  TOPIC: 2,
  BROKER: 4,
  BROKER_LOGGER: 8,
  CLIENT_METRICS: 16,
  GROUP: 32,
} as const;

export function resourceTypeName(type: number): string {
  for (const [name, id] of Object.entries(ConfigResourceType)) if (id === type && id !== 0) return name;
  return String(type);
}

/** Kafka's check that a BROKER / BROKER_LOGGER resource names this node: INVALID_REQUEST otherwise. */
export function requireThisNode(resourceName: string, nodeId: number, orEmpty: boolean): void {
  if (!/^[+-]?\d+$/.test(resourceName)) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${resourceName}`);
  }
  if (Number(resourceName) !== nodeId) {
    throw new KafkaError(
      ErrorCode.INVALID_REQUEST,
      `Unexpected broker id, expected ${nodeId}${orEmpty ? ' or empty string' : ''}, but received ${resourceName}`,
    );
  }
}

/** An error as a resource result's code and message (a non-Kafka error is an UNKNOWN_SERVER_ERROR). */
export function resourceError(err: unknown): { errorCode: number; errorMessage: string } {
  return { errorCode: errorCodeOf(err), errorMessage: err instanceof KafkaError ? err.message : 'Unexpected server error; see the broker log' };
}

/**
 * Kafka's authorization of a config resource (ConfigHelper for DESCRIBE_CONFIGS, ControllerApis
 * .authorizeAlterResource and ConfigAdminManager for ALTER_CONFIGS): the error to answer, or null when allowed.
 * Cluster-wide types are checked on the cluster, a topic or group on itself; other types are not checked (they are
 * refused as unsupported afterwards).
 */
export function configResourceAuthorizationError(ctx: RequestContext, op: Operation, resource: { resourceType: number; resourceName: string }): KafkaError | null {
  switch (resource.resourceType) {
    case ConfigResourceType.BROKER:
    case ConfigResourceType.BROKER_LOGGER:
    case ConfigResourceType.CLIENT_METRICS:
      return authorizeCluster(ctx, op) ? null : new KafkaError(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.');
    case ConfigResourceType.TOPIC:
      return authorize(ctx, op, 'TOPIC', resource.resourceName) ? null : new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.');
    case ConfigResourceType.GROUP:
      return authorize(ctx, op, 'GROUP', resource.resourceName) ? null : new KafkaError(ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.');
    default:
      return null;
  }
}

type Result = Input<Res.DescribeConfigsResult>;
type Entry = Input<Res.DescribeConfigsResourceResult>;

export default defineHandler<Req.DescribeConfigsRequest, Res.DescribeConfigsResponse>(Req, Res, {
  handle(ctx, req) {
    const s = ctx.services;
    const results = req.resources.map((resource): Result => {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      try {
        const denied = configResourceAuthorizationError(ctx, 'DESCRIBE_CONFIGS', resource);
        if (denied) throw denied;
        const configs = describeResource(s, resource, req.includeSynonyms, req.includeDocumentation);
        return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs };
      } catch (err) {
        if (!(err instanceof KafkaError)) s.logger.error({ err, resource: base }, 'describe configs failed');
        return { ...base, ...resourceError(err), configs: [] };
      }
    });
    return { throttleTimeMs: 0, results };
  },
});

function describeResource(s: BrokerServices, resource: Req.DescribeConfigsResource, includeSynonyms: boolean, includeDocumentation: boolean): Entry[] {
  // null and [] both mean every key (Kafka's ConfigHelperUtils); a key asked for twice is listed once
  const keys = resource.configurationKeys && resource.configurationKeys.length > 0 ? [...new Set(resource.configurationKeys)] : null;
  const opts = { keys, includeSynonyms, includeDocumentation };
  const name = resource.resourceName;
  switch (resource.resourceType) {
    case ConfigResourceType.TOPIC:
      validateTopicName(name);
      if (!s.topics.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
      return describeConfigEntries(s.topics.resolvedConfig(name), opts);
    case ConfigResourceType.BROKER:
      if (name === '') return []; // cluster-wide dynamic defaults: none exist on this broker
      requireThisNode(name, s.nodeId, true);
      return describeConfigEntries(resolveBrokerConfig(s.config.staticBrokerConfigs, brokerIdentity(s)), opts);
    case ConfigResourceType.BROKER_LOGGER:
      if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Broker id must not be empty');
      requireThisNode(name, s.nodeId, false);
      return [];
    default:
      throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceTypeName(resource.resourceType)}`);
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The broker configs that come from structured fields of the config file (node.id, log.dirs, listeners, ...). */
function brokerIdentity(s: BrokerServices): BrokerIdentityConfigs {
  return {
    nodeId: s.nodeId,
    dataDir: s.config.dataDir,
    listeners: s.listeners.map((l) => `${l.name}://${hostPort(l.host, l.port)}`).join(','),
    advertisedListeners: s.listeners.map((l) => `${l.name}://${hostPort(l.advertised.host, l.advertised.port)}`).join(','),
  };
}
