// The embedded consumer protocol (protocol type "consumer"): a member's JoinGroup metadata is
// int16 version + ConsumerProtocolSubscription. The coordinator only needs the subscribed topics (OffsetDelete's
// GROUP_SUBSCRIBED_TO_TOPIC and offset expiry). Like Kafka's ClassicGroup.computeSubscribedTopics it parses with
// version 0, the prefix every later version keeps, so a newer client version never breaks it.
import { Reader } from '../protocol/primitives.js';
import { readConsumerProtocolSubscription } from '../protocol/generated/messages/ConsumerProtocolSubscription.js';

export const CONSUMER_PROTOCOL_TYPE = 'consumer';

/** The topics of a consumer subscription, or null when the bytes are not a consumer protocol subscription. */
export function subscribedTopicsOf(metadata: Buffer): string[] | null {
  try {
    const r = new Reader(metadata);
    const version = r.int16();
    if (version < 0) return null;
    return readConsumerProtocolSubscription(r, 0).topics;
  } catch {
    return null;
  }
}
