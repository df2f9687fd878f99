// The shadow benchmark's options that shape what it measures: the trimming plan (what each topic keeps per partition
// and the segment size the brokers get) and the link's client options passed through --link-option.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { logSettings, parseShadowOptions, trimPlan } from '../../bench/shadow/options.js';

const MiB = 1 << 20;

describe('bench:shadow options', () => {
  it('trims half of a partition’s share by default, two segments a cut', () => {
    const opts = parseShadowOptions([]);
    assert.equal(opts.trim, 'half');
    assert.deepEqual(trimPlan(opts, 256), { keepBytes: 4 * MiB, stepBytes: 4 * MiB, segmentBytes: 2 * MiB });
    assert.deepEqual(trimPlan(opts, 16), { keepBytes: 64 * MiB, stepBytes: 64 * MiB, segmentBytes: 32 * MiB });
    // one partition: segments capped at 128 MiB
    assert.deepEqual(trimPlan(opts, 1), { keepBytes: 1024 * MiB, stepBytes: 1024 * MiB, segmentBytes: 128 * MiB });
    assert.equal(logSettings(opts, 256, 'umbra')['log.segment.bytes'], 2 * MiB);
    assert.equal(logSettings(opts, 1, 'kafka')['log.retention.check.interval.ms'], 1000);
  });

  it('with --trim segment cuts about one segment at a time and keeps the same bound', () => {
    const opts = parseShadowOptions(['--trim', 'segment']);
    assert.deepEqual(trimPlan(opts, 256), { keepBytes: 6 * MiB, stepBytes: 2 * MiB, segmentBytes: 2 * MiB });
    assert.deepEqual(trimPlan(opts, 1), { keepBytes: 1920 * MiB, stepBytes: 128 * MiB, segmentBytes: 128 * MiB });
    // --segment-mib sets the step too
    assert.deepEqual(trimPlan(parseShadowOptions(['--trim', 'segment', '--segment-mib', '8']), 16), {
      keepBytes: 120 * MiB,
      stepBytes: 8 * MiB,
      segmentBytes: 8 * MiB,
    });
    assert.throws(() => parseShadowOptions(['--trim', 'all']), /--trim: all is not one of segment, half/);
    assert.throws(() => parseShadowOptions(['--trim', 'half,segment']), /--trim takes one value/);
  });

  it('keeps everything with --keep-mib 0', () => {
    const opts = parseShadowOptions(['--keep-mib', '0']);
    assert.equal(trimPlan(opts, 16), null);
    assert.deepEqual(logSettings(opts, 16, 'umbra'), {});
  });

  it('passes --link-option fields to the link, numbers as numbers', () => {
    const opts = parseShadowOptions(['--link-option', 'fetch_max_bytes=4194304', '--link-option', 'client_id=bench-x']);
    assert.deepEqual(opts.linkOptions, { fetch_max_bytes: 4194304, client_id: 'bench-x' });
    assert.deepEqual(parseShadowOptions([]).linkOptions, {});
    assert.throws(() => parseShadowOptions(['--link-option', 'fetch_max_bytes']), /--link-option takes KEY=VALUE/);
  });
});
