// `umbra acl create|list|delete`: ACL administration over the Kafka API (CreateAcls, DescribeAcls, DeleteAcls),
// with the flags of Kafka's kafka-acls tool, so it works against Umbra and any other Kafka-API cluster alike.
//
// Flags as kafka-acls reads them (core/src/main/scala/kafka/admin/AclCommand.scala):
// - resources: --topic, --group, --transactional-id (each repeatable; `*` is the wildcard), --cluster;
//   --resource-pattern-type literal (default) | prefixed, and for list/delete also match | any.
// - entries: --allow-principal / --deny-principal (repeatable, `User:NAME`; a bare NAME means `User:NAME`),
//   --allow-host / --deny-host (repeatable; `*` when a principal is given without hosts), --operation
//   (repeatable; default All), or the shortcuts --producer (topic Write, Describe, Create; transactional id Write,
//   Describe) and --consumer (topic Read, Describe; group Read).
// - create makes every principal x host x operation x resource combination; delete removes those exact ACLs, or
//   every ACL of the resources when no principal is given; list shows the ACLs of the resources (all ACLs when
//   none is given), optionally only those of --principal.
import { Command } from 'commander';
import type { KafkaClient } from '../client/client.js';
import { ErrorCode, kafkaError, throwIfError } from '../client/errors.js';
import {
  ANY_ACL_FILTER,
  AclOperation,
  AclPermissionType,
  CLUSTER_NAME,
  PatternType,
  ResourceType,
  bindingKey,
  compareBindings,
  operationName,
  parseEnumName,
  patternTypeName,
  permissionTypeName,
  resourceTypeName,
  supportedOperations,
  type AclBinding,
  type AclBindingFilter,
} from '../security/acl.js';
import { CliError, action, collect, printResult, table, withClient, withClientOptions, type ClientCommandOptions } from './common.js';

/** The flags every acl subcommand reads (commander's camelCase of the long names). */
export interface AclCommandOptions {
  topic?: string[];
  group?: string[];
  transactionalId?: string[];
  cluster?: boolean;
  resourcePatternType?: string;
  allowPrincipal?: string[];
  denyPrincipal?: string[];
  allowHost?: string[];
  denyHost?: string[];
  operation?: string[];
  producer?: boolean;
  consumer?: boolean;
  /** list only */
  principal?: string[];
}

/** An ACL as the CLI prints it (JSON output): Kafka's enum names instead of codes. */
export interface AclView {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

export function aclView(b: AclBinding): AclView {
  return {
    resourceType: resourceTypeName(b.resourceType),
    resourceName: b.resourceName,
    patternType: patternTypeName(b.patternType),
    principal: b.principal,
    host: b.host,
    operation: operationName(b.operation),
    permissionType: permissionTypeName(b.permissionType),
  };
}

function usage(message: string): CliError {
  return new CliError(message, 2);
}

/** `User:alice` stays; a bare `alice` becomes `User:alice`. */
export function normalizePrincipal(p: string): string {
  const s = p.trim();
  if (s === '') throw usage('a principal must not be empty');
  return s.includes(':') ? s : `User:${s}`;
}

function patternTypeOf(o: AclCommandOptions, allowed: readonly string[]): number {
  const name = (o.resourcePatternType ?? 'literal').toLowerCase();
  if (!allowed.includes(name)) {
    throw usage(`--resource-pattern-type ${o.resourcePatternType} is not valid here; use ${allowed.join(' or ')}`);
  }
  return PatternType[name.toUpperCase() as 'LITERAL' | 'PREFIXED' | 'MATCH' | 'ANY'];
}

interface ResourceSpec {
  resourceType: number;
  resourceName: string;
}

/** The resources the flags name, in flag order (AclCommand.getResourceFilter). */
export function resourcesOf(o: AclCommandOptions): ResourceSpec[] {
  const out: ResourceSpec[] = [];
  const add = (resourceType: number, names: string[] | undefined, flag: string): void => {
    for (const n of names ?? []) {
      const name = n.trim();
      if (name === '') throw usage(`${flag} must not be empty`);
      out.push({ resourceType, resourceName: name });
    }
  };
  add(ResourceType.TOPIC, o.topic, '--topic');
  if (o.cluster) out.push({ resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_NAME });
  add(ResourceType.GROUP, o.group, '--group');
  add(ResourceType.TRANSACTIONAL_ID, o.transactionalId, '--transactional-id');
  return out;
}

function parseOperation(s: string): number {
  const op = parseEnumName(AclOperation, s);
  if (op === undefined || op === AclOperation.UNKNOWN || op === AclOperation.ANY) {
    const names = Object.keys(AclOperation).filter((k) => k !== 'UNKNOWN' && k !== 'ANY');
    throw usage(`unknown --operation '${s}'; use one of ${names.join(', ')}`);
  }
  return op;
}

/** Principal x host pairs of one permission (AclCommand.getAcl: hosts default to `*` when principals are given). */
function entriesOf(principals: string[] | undefined, hosts: string[] | undefined, permissionType: number, flag: string): { principal: string; host: string; permissionType: number }[] {
  if (!principals || principals.length === 0) {
    if (hosts && hosts.length > 0) throw usage(`--${flag}-host needs --${flag}-principal`);
    return [];
  }
  const hostList = hosts && hosts.length > 0 ? hosts.map((h) => h.trim()) : ['*'];
  const out: { principal: string; host: string; permissionType: number }[] = [];
  for (const p of principals) for (const host of hostList) out.push({ principal: normalizePrincipal(p), host, permissionType });
  return out;
}

/** The operations each resource gets: --producer / --consumer shortcuts, else --operation (default All). */
function operationsFor(o: AclCommandOptions, resource: ResourceSpec): number[] {
  if (o.producer || o.consumer) {
    const ops = new Set<number>();
    if (o.producer) {
      if (resource.resourceType === ResourceType.TOPIC) [AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE].forEach((x) => ops.add(x));
      if (resource.resourceType === ResourceType.TRANSACTIONAL_ID) [AclOperation.WRITE, AclOperation.DESCRIBE].forEach((x) => ops.add(x));
    }
    if (o.consumer) {
      if (resource.resourceType === ResourceType.TOPIC) [AclOperation.READ, AclOperation.DESCRIBE].forEach((x) => ops.add(x));
      if (resource.resourceType === ResourceType.GROUP) ops.add(AclOperation.READ);
    }
    return [...ops];
  }
  const ops = (o.operation && o.operation.length > 0 ? o.operation : ['All']).map(parseOperation);
  // AclCommand.validateOperation: only operations that exist on the resource type (or All)
  const supported = new Set([...supportedOperations(resource.resourceType), AclOperation.ALL]);
  const unsupported = ops.filter((op) => !supported.has(op));
  if (unsupported.length > 0) {
    throw usage(
      `${resourceTypeName(resource.resourceType)} supports only the operations ${[...supported].map(operationName).join(', ')}, ` +
        `not ${unsupported.map(operationName).join(', ')}`,
    );
  }
  return [...new Set(ops)];
}

function checkShortcuts(o: AclCommandOptions): void {
  if (!o.producer && !o.consumer) return;
  if (o.operation?.length || o.denyPrincipal?.length || o.denyHost?.length) {
    throw usage('--producer and --consumer cannot be combined with --operation, --deny-principal or --deny-host');
  }
  if (o.producer && !o.topic?.length) throw usage('With --producer you must specify a --topic');
  if (o.consumer && (!o.topic?.length || !o.group?.length || (!o.producer && (o.cluster || o.transactionalId?.length)))) {
    throw usage('With --consumer you must specify a --topic and a --group and no --cluster or --transactional-id option should be specified.');
  }
}

/** The ACLs `umbra acl create` makes from its flags. */
export function bindingsToCreate(o: AclCommandOptions): AclBinding[] {
  checkShortcuts(o);
  const patternType = patternTypeOf(o, ['literal', 'prefixed']);
  const resources = resourcesOf(o);
  if (resources.length === 0) throw usage('give a resource: --topic, --group, --transactional-id or --cluster');
  const entries = [
    ...entriesOf(o.allowPrincipal, o.allowHost, AclPermissionType.ALLOW, 'allow'),
    ...entriesOf(o.denyPrincipal, o.denyHost, AclPermissionType.DENY, 'deny'),
  ];
  if (entries.length === 0) throw usage('You must specify one of: --allow-principal, --deny-principal when trying to add ACLs.');
  const out = new Map<string, AclBinding>();
  for (const r of resources) {
    for (const operation of operationsFor(o, r)) {
      for (const e of entries) {
        const b: AclBinding = { ...r, patternType, principal: e.principal, host: e.host, operation, permissionType: e.permissionType };
        out.set(bindingKey(b), b);
      }
    }
  }
  return [...out.values()];
}

/** The DeleteAcls filters of `umbra acl delete`: the exact ACLs named, or every ACL of a resource without principals. */
export function filtersToDelete(o: AclCommandOptions): AclBindingFilter[] {
  checkShortcuts(o);
  const patternType = patternTypeOf(o, ['literal', 'prefixed', 'match', 'any']);
  const resources = resourcesOf(o);
  if (resources.length === 0) throw usage('give a resource: --topic, --group, --transactional-id or --cluster');
  const entries = [
    ...entriesOf(o.allowPrincipal, o.allowHost, AclPermissionType.ALLOW, 'allow'),
    ...entriesOf(o.denyPrincipal, o.denyHost, AclPermissionType.DENY, 'deny'),
  ];
  const filters: AclBindingFilter[] = [];
  for (const r of resources) {
    const pattern = { resourceType: r.resourceType, resourceName: r.resourceName, patternType };
    if (entries.length === 0) {
      filters.push({ ...pattern, principal: null, host: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY });
      continue;
    }
    for (const operation of operationsFor(o, r)) {
      for (const e of entries) filters.push({ ...pattern, principal: e.principal, host: e.host, operation, permissionType: e.permissionType });
    }
  }
  return filters;
}

/** The DescribeAcls filters of `umbra acl list`. */
export function filtersToList(o: AclCommandOptions): AclBindingFilter[] {
  const patternType = patternTypeOf(o, ['literal', 'prefixed', 'match', 'any']);
  const resources = resourcesOf(o);
  const principals = (o.principal ?? []).map(normalizePrincipal);
  const patterns =
    resources.length === 0
      ? [{ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY }]
      : resources.map((r) => ({ resourceType: r.resourceType, resourceName: r.resourceName as string | null, patternType }));
  const filters: AclBindingFilter[] = [];
  for (const p of patterns) {
    if (principals.length === 0) filters.push({ ...ANY_ACL_FILTER, ...p });
    else for (const principal of principals) filters.push({ ...ANY_ACL_FILTER, ...p, principal });
  }
  return filters;
}

export async function createAcls(client: KafkaClient, bindings: readonly AclBinding[]): Promise<{ binding: AclBinding; errorCode: number; errorMessage: string | null }[]> {
  const res = await client.request(30, {
    creations: bindings.map((b) => ({
      resourceType: b.resourceType,
      resourceName: b.resourceName,
      resourcePatternType: b.patternType,
      principal: b.principal,
      host: b.host,
      operation: b.operation,
      permissionType: b.permissionType,
    })),
  });
  return bindings.map((binding, i) => {
    const r = res.results[i];
    return { binding, errorCode: r?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR, errorMessage: r ? r.errorMessage : 'no result from the broker' };
  });
}

export async function describeAcls(client: KafkaClient, filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
  const found = new Map<string, AclBinding>();
  for (const f of filters) {
    const res = await client.request(29, {
      resourceTypeFilter: f.resourceType,
      resourceNameFilter: f.resourceName,
      patternTypeFilter: f.patternType,
      principalFilter: f.principal,
      hostFilter: f.host,
      operation: f.operation,
      permissionType: f.permissionType,
    });
    throwIfError(res.errorCode, 'describe ACLs', res.errorMessage);
    for (const r of res.resources) {
      for (const a of r.acls) {
        const b: AclBinding = { resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType, ...a };
        found.set(bindingKey(b), b);
      }
    }
  }
  return [...found.values()].sort(compareBindings);
}

export async function deleteAcls(client: KafkaClient, filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
  const res = await client.request(31, {
    filters: filters.map((f) => ({
      resourceTypeFilter: f.resourceType,
      resourceNameFilter: f.resourceName,
      patternTypeFilter: f.patternType,
      principalFilter: f.principal,
      hostFilter: f.host,
      operation: f.operation,
      permissionType: f.permissionType,
    })),
  });
  const deleted = new Map<string, AclBinding>();
  for (const r of res.filterResults) {
    throwIfError(r.errorCode, 'delete ACLs', r.errorMessage);
    for (const m of r.matchingAcls) {
      throwIfError(m.errorCode, 'delete ACL', m.errorMessage);
      const b: AclBinding = {
        resourceType: m.resourceType,
        resourceName: m.resourceName,
        patternType: m.patternType,
        principal: m.principal,
        host: m.host,
        operation: m.operation,
        permissionType: m.permissionType,
      };
      deleted.set(bindingKey(b), b);
    }
  }
  return [...deleted.values()].sort(compareBindings);
}

function renderTable(views: readonly AclView[]): string {
  return table(
    ['RESOURCE', 'NAME', 'PATTERN', 'PRINCIPAL', 'HOST', 'OPERATION', 'PERMISSION'],
    views.map((v) => [v.resourceType, v.resourceName, v.patternType, v.principal, v.host, v.operation, v.permissionType]),
  );
}

function withResourceOptions(cmd: Command, patternTypes: readonly string[]): Command {
  return cmd
    .option('--topic <name>', 'a topic (`*` = every topic), repeatable', collect)
    .option('--group <id>', 'a consumer group (`*` = every group), repeatable', collect)
    .option('--transactional-id <id>', 'a transactional id (`*` = every one), repeatable', collect)
    .option('--cluster', 'the cluster resource')
    .option('--resource-pattern-type <type>', `how resource names match: ${patternTypes.join(', ')}`, 'literal');
}

function withEntryOptions(cmd: Command): Command {
  return cmd
    .option('--allow-principal <principal>', 'principal to allow, User:NAME (repeatable)', collect)
    .option('--deny-principal <principal>', 'principal to deny, User:NAME (repeatable)', collect)
    .option('--allow-host <host>', 'IP address the allowed principals connect from (default *), repeatable', collect)
    .option('--deny-host <host>', 'IP address the denied principals connect from (default *), repeatable', collect)
    .option('--operation <op>', 'Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All (default All), repeatable', collect)
    .option('--producer', 'shortcut: Write, Describe, Create on the topics (and Write, Describe on transactional ids)')
    .option('--consumer', 'shortcut: Read, Describe on the topics and Read on the groups');
}

export function aclCommand(): Command {
  const acl = new Command('acl').description('create, list and delete ACLs (authorization rules), like kafka-acls');

  withClientOptions(
    withEntryOptions(withResourceOptions(acl.command('create').alias('add').description('add ACLs'), ['literal', 'prefixed'])),
    ['text', 'json'],
  ).action(
    action(async (o: ClientCommandOptions & AclCommandOptions) => {
      const bindings = bindingsToCreate(o);
      await withClient(o, async (client) => {
        const results = await createAcls(client, bindings);
        const created = results.filter((r) => r.errorCode === ErrorCode.NONE).map((r) => aclView(r.binding));
        const failed = results.filter((r) => r.errorCode !== ErrorCode.NONE);
        if (failed.length > 0) {
          // The others were created: say how many, then the broker's reason for each one that was not.
          const lines = failed.map((r) => kafkaError(r.errorCode, `${r.binding.principal} ${operationName(r.binding.operation)} ${resourceTypeName(r.binding.resourceType)}:${r.binding.resourceName}`, r.errorMessage).message);
          const note = created.length > 0 ? `created ${created.length} ACL(s), ${failed.length} failed:\n` : '';
          throw new CliError(note + lines.join('\n'));
        }
        printResult(o.format, { created }, () => `Created ${created.length} ACL${created.length === 1 ? '' : 's'}\n${renderTable(created)}`);
      });
    }),
  );

  withClientOptions(
    withResourceOptions(acl.command('list').alias('ls').description('list ACLs (all of them, or those of the given resources)'), ['literal', 'prefixed', 'match', 'any']).option(
      '--principal <principal>',
      'only the ACLs of this principal, User:NAME (repeatable)',
      collect,
    ),
    ['text', 'json'],
  ).action(
    action(async (o: ClientCommandOptions & AclCommandOptions) => {
      const filters = filtersToList(o);
      await withClient(o, async (client) => {
        const acls = (await describeAcls(client, filters)).map(aclView);
        printResult(o.format, acls, () => (acls.length === 0 ? 'No ACLs' : renderTable(acls)));
      });
    }),
  );

  withClientOptions(
    withEntryOptions(
      withResourceOptions(
        acl.command('delete').alias('rm').alias('remove').description('delete ACLs: the ones named, or every ACL of the resources when no principal is given'),
        ['literal', 'prefixed', 'match', 'any'],
      ),
    ),
    ['text', 'json'],
  ).action(
    action(async (o: ClientCommandOptions & AclCommandOptions) => {
      const filters = filtersToDelete(o);
      await withClient(o, async (client) => {
        const deleted = (await deleteAcls(client, filters)).map(aclView);
        printResult(o.format, { deleted }, () =>
          deleted.length === 0 ? 'No matching ACLs' : `Deleted ${deleted.length} ACL${deleted.length === 1 ? '' : 's'}\n${renderTable(deleted)}`,
        );
      });
    }),
  );

  return acl;
}

/** Adds `umbra acl …` to the program (src/cli/program.ts). */
export function registerAclCommands(program: Command): Command {
  return program.addCommand(aclCommand());
}
