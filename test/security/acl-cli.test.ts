// `umbra acl create|list|delete`: the kafka-acls-like flags turned into bindings and filters (pure functions), and
// the commands run in-process against a test broker serving the real CreateAcls/DescribeAcls/DeleteAcls handlers
// with a real AclAuthorizer: output in text and JSON, usage errors (exit 2), broker errors (exit 1).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrokerServices, RequestContext } from '../../src/broker/context.js';
import type { ApiHandler } from '../../src/broker/registry.js';
import describeAclsHandler from '../../src/broker/handlers/29-describe-acls.js';
import createAclsHandler from '../../src/broker/handlers/30-create-acls.js';
import deleteAclsHandler from '../../src/broker/handlers/31-delete-acls.js';
import type { MetadataStore } from '../../src/cluster/types.js';
import { CliError } from '../../src/cli/common.js';
import { bindingsToCreate, filtersToDelete, filtersToList, normalizePrincipal, type AclCommandOptions } from '../../src/cli/acl.js';
import { createLogger } from '../../src/log.js';
import { ANY_ACL_FILTER, AclOperation as Op, AclPermissionType as Perm, PatternType as Pat, ResourceType as RT } from '../../src/security/acl.js';
import { AclAuthorizer, type Authorizer } from '../../src/security/authorizer.js';
import { FakeBroker, metadataResponse } from '../client/fake-broker.js';

/** dist/test/security/ → the repository root (where node_modules is) */
const REPO_ROOT = dirname(dirname(dirname(dirname(fileURLToPath(import.meta.url)))));

class MemoryStore implements MetadataStore {
  readonly clusterId = 'test-cluster';
  readonly nodeId = 0;
  private readonly data = new Map<string, unknown>();
  get<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
  list<T>(prefix: string): [string, T][] {
    return [...this.data.entries()].filter(([k]) => k.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)) as [string, T][];
  }
  async put(key: string, value: unknown): Promise<void> {
    this.data.set(key, value);
  }
  async delete(key: string): Promise<void> {
    this.data.delete(key);
  }
  async batch(ops: ({ op: 'put'; key: string; value: unknown } | { op: 'delete'; key: string })[]): Promise<void> {
    for (const o of ops) {
      if (o.op === 'put') this.data.set(o.key, o.value);
      else this.data.delete(o.key);
    }
  }
  async close(): Promise<void> {}
}

function usageError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof CliError && err.exitCode === 2 && message.test(err.message));
}

describe('flags to bindings (create)', () => {
  it('crosses principals, hosts, operations and resources', () => {
    const bs = bindingsToCreate({
      allowPrincipal: ['User:alice', 'bob'],
      allowHost: ['10.0.0.1'],
      operation: ['Read', 'describe'],
      topic: ['orders'],
      group: ['billing'],
      resourcePatternType: 'prefixed',
    });
    assert.equal(bs.length, 2 * 2 * 2);
    assert.ok(bs.every((b) => b.patternType === Pat.PREFIXED && b.host === '10.0.0.1' && b.permissionType === Perm.ALLOW));
    assert.deepEqual([...new Set(bs.map((b) => b.principal))], ['User:alice', 'User:bob']);
    assert.deepEqual([...new Set(bs.map((b) => b.resourceType))], [RT.TOPIC, RT.GROUP]);
  });

  it('defaults: host * for a principal without hosts, operation All, pattern LITERAL; deny entries too', () => {
    const bs = bindingsToCreate({ denyPrincipal: ['User:eve'], cluster: true });
    assert.deepEqual(bs, [
      { resourceType: RT.CLUSTER, resourceName: 'kafka-cluster', patternType: Pat.LITERAL, principal: 'User:eve', host: '*', operation: Op.ALL, permissionType: Perm.DENY },
    ]);
  });

  it('accepts kafka-acls operation spellings and the transactional-id resource', () => {
    const bs = bindingsToCreate({ allowPrincipal: ['User:p'], transactionalId: ['tx-1'], operation: ['Write', 'DESCRIBE'] });
    assert.deepEqual(bs.map((b) => [b.resourceType, b.resourceName, b.operation]), [
      [RT.TRANSACTIONAL_ID, 'tx-1', Op.WRITE],
      [RT.TRANSACTIONAL_ID, 'tx-1', Op.DESCRIBE],
    ]);
    const cluster = bindingsToCreate({ allowPrincipal: ['User:p'], cluster: true, operation: ['IdempotentWrite', 'describe_configs', 'alter-configs'] });
    assert.deepEqual(cluster.map((b) => b.operation), [Op.IDEMPOTENT_WRITE, Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS]);
  });

  it('--producer and --consumer shortcuts', () => {
    const producer = bindingsToCreate({ allowPrincipal: ['User:p'], producer: true, topic: ['t'], transactionalId: ['tx'] });
    assert.deepEqual(producer.map((b) => [b.resourceType, b.operation]), [
      [RT.TOPIC, Op.WRITE],
      [RT.TOPIC, Op.DESCRIBE],
      [RT.TOPIC, Op.CREATE],
      [RT.TRANSACTIONAL_ID, Op.WRITE],
      [RT.TRANSACTIONAL_ID, Op.DESCRIBE],
    ]);
    const consumer = bindingsToCreate({ allowPrincipal: ['User:c'], consumer: true, topic: ['t'], group: ['g'] });
    assert.deepEqual(consumer.map((b) => [b.resourceType, b.operation]), [
      [RT.TOPIC, Op.READ],
      [RT.TOPIC, Op.DESCRIBE],
      [RT.GROUP, Op.READ],
    ]);
  });

  it('usage errors, as kafka-acls reports them', () => {
    const base: AclCommandOptions = { allowPrincipal: ['User:a'], topic: ['t'] };
    usageError(() => bindingsToCreate({ topic: ['t'] }), /--allow-principal, --deny-principal/);
    usageError(() => bindingsToCreate({ allowPrincipal: ['User:a'] }), /give a resource/);
    usageError(() => bindingsToCreate({ ...base, allowHost: [], denyHost: ['1.2.3.4'] }), /--deny-host needs --deny-principal/);
    usageError(() => bindingsToCreate({ ...base, resourcePatternType: 'match' }), /not valid here/);
    usageError(() => bindingsToCreate({ ...base, operation: ['Frobnicate'] }), /unknown --operation 'Frobnicate'/);
    usageError(() => bindingsToCreate({ ...base, operation: ['Any'] }), /unknown --operation/);
    usageError(() => bindingsToCreate({ allowPrincipal: ['User:a'], group: ['g'], operation: ['Write'] }), /GROUP supports only/);
    usageError(() => bindingsToCreate({ allowPrincipal: ['User:a'], producer: true, group: ['g'] }), /With --producer you must specify a --topic/);
    usageError(() => bindingsToCreate({ allowPrincipal: ['User:a'], consumer: true, topic: ['t'] }), /With --consumer/);
    usageError(() => bindingsToCreate({ ...base, producer: true, operation: ['Read'] }), /cannot be combined/);
    usageError(() => bindingsToCreate({ ...base, topic: [' '] }), /--topic must not be empty/);
    usageError(() => normalizePrincipal(''), /must not be empty/);
  });

  it('keeps User:NAME and Type:NAME principals, prefixes bare names with User:', () => {
    assert.equal(normalizePrincipal('User:x'), 'User:x');
    assert.equal(normalizePrincipal('Group:ops'), 'Group:ops');
    assert.equal(normalizePrincipal(' alice '), 'User:alice');
    assert.equal(normalizePrincipal('User:*'), 'User:*');
  });
});

describe('flags to filters (delete, list)', () => {
  it('delete without principals removes every ACL of the resources, with the chosen pattern type', () => {
    assert.deepEqual(filtersToDelete({ topic: ['t'], resourcePatternType: 'match' }), [
      { resourceType: RT.TOPIC, resourceName: 't', patternType: Pat.MATCH, principal: null, host: null, operation: Op.ANY, permissionType: Perm.ANY },
    ]);
    assert.equal(filtersToDelete({ topic: ['t'], resourcePatternType: 'ANY' })[0]!.patternType, Pat.ANY);
  });

  it('delete with principals removes those exact entries (operation default All, as kafka-acls)', () => {
    assert.deepEqual(filtersToDelete({ topic: ['t'], allowPrincipal: ['User:a'] }), [
      { resourceType: RT.TOPIC, resourceName: 't', patternType: Pat.LITERAL, principal: 'User:a', host: '*', operation: Op.ALL, permissionType: Perm.ALLOW },
    ]);
    usageError(() => filtersToDelete({ allowPrincipal: ['User:a'] }), /give a resource/);
  });

  it('list: everything without resources; per resource and per principal otherwise', () => {
    assert.deepEqual(filtersToList({}), [{ ...ANY_ACL_FILTER }]);
    assert.deepEqual(filtersToList({ principal: ['bob'] }), [{ ...ANY_ACL_FILTER, principal: 'User:bob' }]);
    assert.deepEqual(filtersToList({ topic: ['a'], group: ['g'], resourcePatternType: 'prefixed' }), [
      { ...ANY_ACL_FILTER, resourceType: RT.TOPIC, resourceName: 'a', patternType: Pat.PREFIXED },
      { ...ANY_ACL_FILTER, resourceType: RT.GROUP, resourceName: 'g', patternType: Pat.PREFIXED },
    ]);
  });
});

/**
 * Runs `umbra acl …` as the binary would, in a child process (the command is not wired into src/cli/program.ts
 * by this module; the child builds a program with registerAclCommands and main.ts's exit-code rules).
 */
function runAcl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const aclModule = new URL('../../src/cli/acl.js', import.meta.url).href;
  const script = [
    "import { Command, CommanderError } from 'commander';",
    `import { registerAclCommands } from ${JSON.stringify(aclModule)};`,
    "const program = new Command('umbra');",
    'registerAclCommands(program);',
    'const all = (c) => [c, ...c.commands.flatMap(all)];',
    'for (const c of all(program)) c.exitOverride();',
    'try { await program.parseAsync(process.argv.slice(1), { from: "user" }); }',
    'catch (err) { process.exitCode = err instanceof CommanderError ? (err.exitCode === 0 ? 0 : 2) : 1; }',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.UMBRA_BROKERS;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'acl', ...args], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('umbra acl against a broker', () => {
  const logger = createLogger({ level: 'silent' });
  let secured: FakeBroker;
  let open: FakeBroker;
  let auth: AclAuthorizer;

  function serve(broker: () => FakeBroker, authorizer: Authorizer | undefined): Record<number, (req: { body: unknown; version: number; apiKey: number }) => unknown> {
    const ctx = (apiKey: number, apiVersion: number): RequestContext => ({
      services: { logger, authorizer } as unknown as BrokerServices,
      connection: { id: 1, remoteAddress: '127.0.0.1', remotePort: 1, clientId: null, principal: 'User:admin', authenticated: true, sasl: null, listener: { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', advertised: { host: '127.0.0.1', port: 9092 } } },
      apiKey,
      apiVersion,
      correlationId: 0,
      clientId: null,
      closeConnection: () => undefined,
      onResponseDone: () => undefined,
      deferPart: () => undefined,
    });
    const h = (handler: ApiHandler) => (req: { body: unknown; version: number; apiKey: number }) => handler.handle(ctx(req.apiKey, req.version), req.body, req.version);
    return { 3: () => metadataResponse(broker(), {}, null), 29: h(describeAclsHandler), 30: h(createAclsHandler), 31: h(deleteAclsHandler) };
  }

  before(async () => {
    auth = new AclAuthorizer(new MemoryStore(), { superUsers: ['User:admin'] });
    secured = await FakeBroker.start({ handlers: serve(() => secured, auth) });
    open = await FakeBroker.start({ handlers: serve(() => open, undefined) });
  });

  after(async () => {
    await secured?.close();
    await open?.close();
  });

  it('create prints what it created, and the broker enforces it', async () => {
    const r = await runAcl(['create', '-b', secured.address, '--allow-principal', 'User:alice', '--operation', 'Read', '--operation', 'Describe', '--topic', 'orders', '--resource-pattern-type', 'prefixed', '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { created: { resourceType: string; resourceName: string; patternType: string; operation: string; permissionType: string }[] };
    assert.deepEqual(out.created.map((c) => [c.resourceType, c.resourceName, c.patternType, c.operation, c.permissionType]), [
      ['TOPIC', 'orders', 'PREFIXED', 'READ', 'ALLOW'],
      ['TOPIC', 'orders', 'PREFIXED', 'DESCRIBE', 'ALLOW'],
    ]);
    assert.equal(auth.authorize('User:alice', '1.2.3.4', Op.READ, RT.TOPIC, 'orders-eu'), true);

    const text = await runAcl(['create', '-b', secured.address, '--deny-principal', 'eve', '--deny-host', '10.9.9.9', '--operation', 'Write', '--topic', 'orders']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^Created 1 ACL\n/);
    assert.match(text.stdout, /TOPIC\s+orders\s+LITERAL\s+User:eve\s+10\.9\.9\.9\s+WRITE\s+DENY/);
  });

  it('list shows all ACLs, or those of a resource (MATCH includes prefixes) or a principal', async () => {
    const all = await runAcl(['list', '-b', secured.address]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^RESOURCE\s+NAME\s+PATTERN\s+PRINCIPAL\s+HOST\s+OPERATION\s+PERMISSION\n/);
    assert.equal(all.stdout.trim().split('\n').length, 1 + 3);

    const match = await runAcl(['ls', '-b', secured.address, '--topic', 'orders-eu', '--resource-pattern-type', 'match', '-f', 'json']);
    assert.equal(match.code, 0, match.stderr);
    assert.deepEqual((JSON.parse(match.stdout) as { principal: string }[]).map((a) => a.principal), ['User:alice', 'User:alice']);

    const literal = await runAcl(['list', '-b', secured.address, '--topic', 'orders', '-f', 'json']);
    assert.deepEqual((JSON.parse(literal.stdout) as { principal: string }[]).map((a) => a.principal), ['User:eve']);

    const byPrincipal = await runAcl(['list', '-b', secured.address, '--principal', 'User:eve', '-f', 'json']);
    assert.equal((JSON.parse(byPrincipal.stdout) as unknown[]).length, 1);

    const none = await runAcl(['list', '-b', secured.address, '--group', 'nobody']);
    assert.equal(none.stdout.trim(), 'No ACLs');
  });

  it('delete removes the named entries, or every ACL of a resource', async () => {
    const one = await runAcl(['delete', '-b', secured.address, '--topic', 'orders', '--resource-pattern-type', 'prefixed', '--allow-principal', 'User:alice', '--operation', 'Read', '-f', 'json']);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { deleted: { operation: string }[] }).deleted.map((d) => d.operation), ['READ']);
    const rest = await runAcl(['rm', '-b', secured.address, '--topic', 'orders', '--resource-pattern-type', 'any']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /^Deleted 2 ACLs\n/);
    assert.equal(auth.aclCount, 0);
    const nothing = await runAcl(['delete', '-b', secured.address, '--topic', 'orders']);
    assert.equal(nothing.stdout.trim(), 'No matching ACLs');
  });

  it('a broker without an authorizer: SECURITY_DISABLED, exit 1', async () => {
    const r = await runAcl(['list', '-b', open.address]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SECURITY_DISABLED/);
    const c = await runAcl(['create', '-b', open.address, '--allow-principal', 'User:a', '--topic', 't']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /SECURITY_DISABLED/);
  });

  it('usage errors exit 2 before connecting', async () => {
    const r = await runAcl(['create', '-b', '127.0.0.1:1', '--topic', 't']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--allow-principal/);
    const unknownFlag = await runAcl(['list', '--bogus']);
    assert.notEqual(unknownFlag.code, 0);
  });
});
