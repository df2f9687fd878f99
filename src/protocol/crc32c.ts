// CRC-32C (Castagnoli), the checksum of every RecordBatch v2: the broker computes it over every produced batch, and
// the shadow over every replicated one, so its speed is a share of what a byte costs end to end.
//
// Two native implementations, the faster one used when it loads:
// - aws-crt's aws-c-checksums (the AWS common runtime, prebuilt for linux/darwin/windows in the npm package): it
//   folds with carry-less multiplication (AVX-512 VPCLMULQDQ where the CPU has it) or runs the CRC32 instruction on
//   several streams at once, ~21 GB/s on 64 KiB here;
// - @node-rs/crc32: one serial chain of the CRC32 instruction, ~4 GB/s here, where each step waits for the last.
// Measured with 64 KiB batches at saturation (bench:shadow, 16 p × 1 KiB) the CRC was 15 % of the source broker's
// busy time and 20 % of the shadow's with @node-rs/crc32 alone.
//
// aws-crt's own entry point spawns `ldd --version` on import to tell glibc from musl and loads its whole runtime's
// JavaScript (HTTP, MQTT, …), so the binary is loaded directly: the package ships it as
// dist/bin/<platform>-<arch>-<libc>/aws-crt-nodejs.node, and the C runtime comes from Node's own process report.
// The package layout and the binding's function are internals of that (pinned) version: when either is missing or
// the result is wrong for the standard check value, @node-rs/crc32 is used (`crc32cImplementation` says which; a
// test pins it to aws-crt on linux-x64 so an upgrade that breaks the fast path does not go unnoticed).
import { crc32c as nodeRsCrc32c } from '@node-rs/crc32';
import { createRequire } from 'node:module';
import { arch, platform } from 'node:os';

type Crc32c = (data: Uint8Array) => number;

let implementation: Crc32c | null = null;
let implementationName: 'aws-crt' | '@node-rs/crc32' = '@node-rs/crc32';

/**
 * CRC-32C of `data` as an unsigned 32-bit number. The first call loads the implementation: aws-crt's binary takes
 * ~70 ms to load and initialise (its TLS library's setup), which a CLI command that never checksums need not pay.
 */
export function crc32c(data: Uint8Array): number {
  return (implementation ??= pick())(data);
}

/** which implementation `crc32c` uses (loading it if no call has yet) */
export function crc32cImplementation(): 'aws-crt' | '@node-rs/crc32' {
  implementation ??= pick();
  return implementationName;
}

function pick(): Crc32c {
  const fast = loadAwsCrt();
  if (fast !== null) {
    implementationName = 'aws-crt';
    return fast;
  }
  return crc32cPortable;
}

/** The reference implementation (for tests that compare the two). */
export function crc32cPortable(data: Uint8Array): number {
  return nodeRsCrc32c(data as Buffer) >>> 0;
}

function loadAwsCrt(): Crc32c | null {
  try {
    const require = createRequire(import.meta.url);
    const root = require.resolve('aws-crt/package.json').slice(0, -'package.json'.length);
    const binding = require(`${root}dist/bin/${platform()}-${arch()}-${cRuntime()}/aws-crt-nodejs.node`) as {
      checksums_crc32c?: (data: Uint8Array, previous: number | undefined) => number;
    };
    const native = binding.checksums_crc32c;
    if (typeof native !== 'function') return null;
    const fast: Crc32c = (data) => native(data, undefined) >>> 0;
    // the check value of CRC-32C ("123456789"), and a view that does not start at its buffer's start
    const probe = Buffer.from('xx123456789');
    if (fast(probe.subarray(2)) !== 0xe3069283) return null;
    return fast;
  } catch {
    return null;
  }
}

/** aws-crt's name for the C runtime: glibc or musl on Linux, "cruntime" elsewhere. */
function cRuntime(): string {
  if (platform() !== 'linux') return 'cruntime';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}
