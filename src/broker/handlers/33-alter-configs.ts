// AlterConfigs (key 33), v0-2: the legacy, non-incremental API (IncrementalAlterConfigs is the one to use).
//
// Behaviour, resource by resource (checks as Kafka's ConfigAdminManager and controller make them):
// - A resource given twice: both get INVALID_REQUEST "Each resource must appear at most once.". A key given twice,
//   or a null value, is INVALID_REQUEST for that resource.
// - TOPIC (2): the given configs become the topic's complete set of overrides; keys left out go back to their
//   defaults. Bad names or values are INVALID_CONFIG naming the key; an unknown topic UNKNOWN_TOPIC_OR_PARTITION;
//   "" INVALID_REQUEST. The partition logs obey the new configuration when the answer is sent.
// - BROKER (4): there are no dynamic broker configs here (they are set in the config file, read at start), so
//   setting any key is INVALID_REQUEST "Cannot update these configs dynamically: ...", the answer Kafka gives for
//   its read-only broker configs. An empty set of configs succeeds (there is nothing to clear). The name must be
//   this node's id or "" (cluster default), else INVALID_REQUEST.
// - BROKER_LOGGER (8) was never part of this API: INVALID_REQUEST, as in Kafka; so are GROUP, CLIENT_METRICS and
//   unknown types.
// - validateOnly checks everything and changes nothing.
// - Authorization (Kafka's ControllerApis.authorizeAlterResource), after the duplicate, key and null checks and a
//   BROKER resource's node id (the broker's preprocessing) but before any other validation or existence check:
//   BROKER (and CLIENT_METRICS) need ALTER_CONFIGS on the cluster (CLUSTER_AUTHORIZATION_FAILED), a TOPIC on the
//   topic (TOPIC_AUTHORIZATION_FAILED), a GROUP on the group (GROUP_AUTHORIZATION_FAILED). BROKER_LOGGER is refused
//   before any check, as Kafka's preprocessing does.
//
// Version notes: v2 is the flexible encoding.
import * as Req from '../../protocol/generated/messages/AlterConfigsRequest.js';
import * as Res from '../../protocol/generated/messages/AlterConfigsResponse.js';
import type { Input } from '../../protocol/primitives.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { validateTopicName } from '../../cluster/topics.js';
import type { BrokerServices } from '../context.js';
import { defineHandler } from '../registry.js';
import { ConfigResourceType, configResourceAuthorizationError, requireThisNode, resourceError, resourceTypeName } from './32-describe-configs.js';

type ResourceResult = Input<Res.AlterConfigsResourceResponse>;

export default defineHandler<Req.AlterConfigsRequest, Res.AlterConfigsResponse>(Req, Res, {
  async handle(ctx, req) {
    const s = ctx.services;
    const repeated = repeatedResources(req.resources);
    const responses: ResourceResult[] = [];
    for (const resource of req.resources) {
      const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
      try {
        if (repeated.has(resource)) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
        checkConfigNames(resource.configs.map((c) => c.name));
        checkNoNullValues(resource.configs);
        if (resource.resourceType !== ConfigResourceType.BROKER_LOGGER) {
          if (resource.resourceType === ConfigResourceType.BROKER && resource.resourceName !== '') requireThisNode(resource.resourceName, s.nodeId, true);
          const denied = configResourceAuthorizationError(ctx, 'ALTER_CONFIGS', resource);
          if (denied) throw denied;
        }
        await alterResource(s, resource, req.validateOnly);
        responses.push({ ...base, errorCode: ErrorCode.NONE, errorMessage: null });
      } catch (err) {
        if (!(err instanceof KafkaError)) s.logger.error({ err, resource: base }, 'alter configs failed');
        responses.push({ ...base, ...resourceError(err) });
      }
    }
    return { throttleTimeMs: 0, responses };
  },
});

async function alterResource(s: BrokerServices, resource: Req.AlterConfigsResource, validateOnly: boolean): Promise<void> {
  const name = resource.resourceName;
  switch (resource.resourceType) {
    case ConfigResourceType.TOPIC: {
      requireTopicName(name);
      const configs: Record<string, string> = {};
      for (const c of resource.configs) configs[c.name] = c.value!;
      // the legacy API replaces every override: a synced property changes if its value differs either way
      const current = s.topics.get(name)?.configs ?? {};
      const changed = [...new Set([...Object.keys(current), ...Object.keys(configs)])].filter((k) => current[k] !== configs[k]);
      const refused = s.shadow?.configChangeReason(name, changed);
      if (refused !== undefined) throw new KafkaError(ErrorCode.POLICY_VIOLATION, refused);
      await s.topics.alterConfigs(name, configs, { validateOnly });
      // The registry's change listener updates the logs; syncing again is harmless (see 19-create-topics.ts).
      if (!validateOnly) s.partitions.sync(name);
      return;
    }
    case ConfigResourceType.BROKER:
      if (name !== '') requireThisNode(name, s.nodeId, true);
      refuseDynamicBrokerConfigs(resource.configs.map((c) => c.name));
      return;
    default:
      throw unsupportedResourceType(resource.resourceType, 'AlterConfigs');
  }
}

// ---- shared with IncrementalAlterConfigs (44) ----

/** Resources (type and name) that appear more than once in the request: Kafka fails every copy. */
export function repeatedResources<T extends { resourceType: number; resourceName: string }>(resources: readonly T[]): Set<T> {
  const byKey = new Map<string, T[]>();
  for (const r of resources) {
    const key = `${r.resourceType}:${r.resourceName}`;
    const list = byKey.get(key);
    if (list) list.push(r);
    else byKey.set(key, [r]);
  }
  return new Set([...byKey.values()].filter((l) => l.length > 1).flat());
}

export function checkConfigNames(names: readonly string[]): void {
  if (new Set(names).size !== names.length) throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys');
}

/** Kafka's "Null value not supported for : a, b" (for IncrementalAlterConfigs, DELETE ops are not passed in). */
export function checkNoNullValues(configs: readonly { name: string; value: string | null }[]): void {
  const nulls = configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Null value not supported for : ${nulls.join(', ')}`);
}

/** The checks of Kafka's ControllerConfigurationValidator on a TOPIC resource name. */
export function requireTopicName(name: string): void {
  if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
  validateTopicName(name);
}

export function unsupportedResourceType(type: number, api: string): KafkaError {
  const name = resourceTypeName(type);
  return new KafkaError(ErrorCode.INVALID_REQUEST, name === String(type) ? `Unknown resource type ${type}` : `${api} does not support ${name} resources on this broker`);
}

/** Every broker config is static here: changing one at runtime is refused, naming the keys. */
export function refuseDynamicBrokerConfigs(names: readonly string[]): void {
  if (names.length === 0) return;
  throw new KafkaError(
    ErrorCode.INVALID_REQUEST,
    `Cannot update these configs dynamically: ${names.join(', ')}. This broker has no dynamic broker configs: set them under \`broker:\` in its config file and restart it.`,
  );
}
