// bench:broker's options that shape what it measures: the warm-up each broker gets before its measured phases.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseOptions } from '../../bench/lib/options.js';

describe('bench:broker options', () => {
  it('warms each broker up for at most 90 s unless told otherwise', () => {
    assert.equal(parseOptions([]).jvmWarmup, 90);
    assert.equal(parseOptions(['--jvm-warmup', '0']).jvmWarmup, 0);
    assert.equal(parseOptions(['--jvm-warmup', '30']).jvmWarmup, 30);
    assert.throws(() => parseOptions(['--jvm-warmup=-1']), /jvm-warmup/);
    assert.throws(() => parseOptions(['--jvm-warmup', 'soon']), /jvm-warmup/);
  });
});
