// kafka-python 2.0.2 (infers the broker version from ApiVersions v0, then sends fixed versions): produce,
// consume in a group, commit.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kafkaPythonConsume, kafkaPythonProduce, requirePeers } from '../helpers/peers.js';
import { startUmbra, type UmbraBroker } from '../helpers/umbra.js';

describe('kafka-python 2.0.2', () => {
  let broker: UmbraBroker;
  before(async () => {
    requirePeers(['kafka-python']);
    broker = await startUmbra({ brokerConfigs: { 'group.initial.rebalance.delay.ms': 0 } });
  });
  after(async () => broker?.destroy());

  it('produces, consumes in a group and commits', { timeout: 90_000 }, async () => {
    const produced = await kafkaPythonProduce(broker.bootstrap, 'kp', 500, { compression: 'gzip' });
    assert.equal(produced.acked, 500);
    const consumed = await kafkaPythonConsume(broker.bootstrap, 'kp', 'kp-group', 500, 30_000);
    assert.equal(consumed.count, 500);
    const committed = Object.values(consumed.committed).reduce<number>((a, b) => a + (b ?? 0), 0);
    assert.equal(committed, 500);
    // a second run of the same group finds nothing new
    const again = await kafkaPythonConsume(broker.bootstrap, 'kp', 'kp-group', 0, 3000);
    assert.equal(again.count, 0);
  });
});
