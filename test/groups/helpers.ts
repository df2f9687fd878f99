// Shared pieces of the group coordinator tests: a coordinator over memory logs with short timeouts, polling on
// reported state (never fixed sleeps), and consumer-protocol metadata bytes.
import { pino } from 'pino';
import { GroupCoordinator, type GroupCoordinatorConfig, type JoinGroupParams } from '../../src/groups/coordinator.js';
import { Writer } from '../../src/protocol/primitives.js';
import { writeConsumerProtocolSubscription } from '../../src/protocol/generated/messages/ConsumerProtocolSubscription.js';
import { MemoryOffsetsTopic } from './memory-log.js';

export const silentLogger = pino({ level: 'silent' });

export const TEST_CONFIG: GroupCoordinatorConfig = {
  nodeId: 1,
  groupMinSessionTimeoutMs: 10,
  groupMaxSessionTimeoutMs: 60_000,
  groupInitialRebalanceDelayMs: 0,
  offsetsRetentionMs: 7 * 24 * 3600 * 1000,
};

export async function startCoordinator(
  topic = new MemoryOffsetsTopic(4),
  config: Partial<GroupCoordinatorConfig> = {},
  now?: () => number,
): Promise<{ coordinator: GroupCoordinator; topic: MemoryOffsetsTopic }> {
  const coordinator = new GroupCoordinator({
    storage: { numPartitions: topic.numPartitions, offsetsLog: (p) => topic.offsetsLog(p) },
    config: { ...TEST_CONFIG, ...config },
    logger: silentLogger,
    now,
  });
  await coordinator.load();
  return { coordinator, topic };
}

/** ConsumerProtocolSubscription v1 bytes (int16 version + struct), as the Java consumer sends them. */
export function subscription(topics: string[]): Buffer {
  const w = new Writer();
  w.int16(1);
  writeConsumerProtocolSubscription(w, 1, { topics, userData: null, ownedPartitions: [] });
  return w.toBuffer();
}

export function joinParams(groupId: string, overrides: Partial<JoinGroupParams> = {}): JoinGroupParams {
  return {
    groupId,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: subscription(['t1']) }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 10_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: true,
    supportSkippingAssignment: false,
    ...overrides,
  };
}

/** Polls until `cond` holds (every 5 ms, up to timeoutMs). */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with `p`'s value, or throws if it has not settled within timeoutMs. */
export async function within<T>(p: Promise<T>, what: string, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** true if `p` is still pending after the current macrotask queue drains */
export async function isPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return !settled;
}
