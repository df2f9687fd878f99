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

  it('sizes Apache Kafka’s index files for the segments and leaves Umbra’s alone', () => {
    const opts = parseShadowOptions([]);
    assert.equal(logSettings(opts, 256, 'kafka')['log.index.size.max.bytes'], 64 * 1024); // 2 MiB segments
    assert.equal(logSettings(opts, 1, 'kafka')['log.index.size.max.bytes'], 2 * MiB); // 128 MiB segments
    assert.equal(logSettings(opts, 256, 'umbra')['log.index.size.max.bytes'], undefined);
    // a full segment needs one entry (≤ 12 B) per 4 KiB of records: the size holds several times that
    for (const p of [1, 16, 256]) {
      const k = logSettings(opts, p, 'kafka');
      assert.ok(Number(k['log.index.size.max.bytes']) >= 3 * (Number(k['log.segment.bytes']) / 4096) * 12, `${p} partitions`);
    }
  });

  it('warms JVMs up for at most 90 s unless told otherwise', () => {
    assert.equal(parseShadowOptions([]).jvmWarmup, 90);
    assert.equal(parseShadowOptions(['--jvm-warmup', '0']).jvmWarmup, 0);
    assert.throws(() => parseShadowOptions(['--jvm-warmup', '-1']), /jvm-warmup/);
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
