// Round-trip property tests for every API in API_CODECS, request and response, at every version it defines.
//
// The random messages are driven by the Kafka JSON spec itself (parsed with the generator's own parseSpecJson),
// not by the generated code: for each version, every field present in that version gets a random value of its
// type (null sometimes, where the version allows it; tagged fields sometimes left at their default), and every field
// absent from it holds its spec default, computed here independently of the generator. Then
//   write(m) -> bytes;  read(bytes) deep-equals m and consumes every byte;  write(read(bytes)) == bytes.
//
// int64 values stay within ±2^53 (Umbra carries int64 as a JS number). The PRNG is seeded: a failure names the
// seed, API, version and case, and `UMBRA_SEED=<seed>` replays it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecJson } from '../../scripts/gen-protocol.js';
import { API_CODECS, type ApiCodec } from '../../src/protocol/generated/api.js';
import { Reader, Writer, ZERO_UUID } from '../../src/protocol/primitives.js';

type MessageSpec = ReturnType<typeof parseSpecJson>;
type FieldSpec = MessageSpec['fields'][number] & { tag?: number; taggedVersions?: string };

function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the test file');
    dir = up;
  }
  return dir;
}

const protocolDir = join(projectRoot(), '..', 'shared', 'kafka-protocol');
const messagesDir = join(protocolDir, 'messages');
const specsPresent = existsSync(messagesDir);
const SEED = Number(process.env.UMBRA_SEED ?? 0x5eed_4b1d);
/** cases per API and direction, spread over its versions (at least MIN_PER_VERSION each) */
const CASES_PER_API = Number(process.env.UMBRA_ROUNDTRIP_CASES ?? 300);
const MIN_PER_VERSION = 4;

// ------------------------------------------------------------------------------------------- seeded PRNG

/** sfc32: small, fast, and good enough for test data */
class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.float() * xs.length)]!;
  }
}

// ------------------------------------------------------------------------------------------- spec model

const INF = Number.POSITIVE_INFINITY;

function parseRange(s: string | undefined): [number, number] | null {
  if (s === undefined || s === 'none' || s === '') return null;
  if (s.endsWith('+')) return [Number(s.slice(0, -1)), INF];
  const dash = s.indexOf('-');
  if (dash > 0) return [Number(s.slice(0, dash)), Number(s.slice(dash + 1))];
  return [Number(s), Number(s)];
}
const inRange = (s: string | undefined, v: number): boolean => {
  const r = parseRange(s);
  return r !== null && v >= r[0] && v <= r[1];
};
const overlaps = (s: string | undefined, valid: [number, number]): boolean => {
  const r = parseRange(s);
  return r !== null && r[0] <= valid[1] && r[1] >= valid[0];
};

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'uuid', 'string', 'bytes', 'records']);
const camel = (name: string): string => name[0]!.toLowerCase() + name.slice(1);

class SpecModel {
  readonly valid: [number, number];
  readonly structs = new Map<string, FieldSpec[]>();
  constructor(readonly spec: MessageSpec) {
    this.valid = parseRange(spec.validVersions)!;
    for (const cs of spec.commonStructs ?? []) this.structs.set(cs.name, cs.fields as FieldSpec[]);
    const collect = (fields: FieldSpec[]): void => {
      for (const f of fields) {
        if (f.fields) {
          this.structs.set(f.type.replace(/^\[\]/, ''), f.fields as FieldSpec[]);
          collect(f.fields as FieldSpec[]);
        }
      }
    };
    collect(spec.fields as FieldSpec[]);
  }

  /** versions a field exists in (Kafka: `versions`, or the tagged versions when only those are given) */
  private versionsOf(f: FieldSpec): string | undefined {
    return f.versions ?? f.taggedVersions;
  }
  /** the fields a struct's object has: those that exist in some valid version of the message */
  fieldsOf(fields: FieldSpec[]): FieldSpec[] {
    return fields.filter((f) => overlaps(this.versionsOf(f), this.valid));
  }
  present(f: FieldSpec, v: number): boolean {
    return inRange(this.versionsOf(f), v);
  }
  tagged(f: FieldSpec, v: number): boolean {
    return f.tag !== undefined && inRange(f.taggedVersions, v);
  }
  nullableIn(f: FieldSpec, v: number): boolean {
    return inRange(f.nullableVersions, v);
  }
  anyNullable(f: FieldSpec): boolean {
    return f.nullableVersions !== undefined || f.default === 'null';
  }

  /** the spec default of a field, by Kafka's rules (FieldSpec.fieldDefault) */
  defaultOf(f: FieldSpec): unknown {
    const d = f.default;
    if (f.type.startsWith('[]')) return d === 'null' ? null : [];
    switch (f.type) {
      case 'bool':
        return d === true || d === 'true';
      case 'string':
        return d === 'null' ? null : String(d ?? '');
      case 'uuid': {
        if (d === undefined || d === '') return ZERO_UUID;
        const h = Buffer.from(String(d), 'base64url').toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      case 'bytes':
        return d === 'null' ? null : Buffer.alloc(0);
      case 'records':
        // Kafka's default is null; a non-nullable records field defaults to empty here, as null cannot be written
        return this.anyNullable(f) ? null : Buffer.alloc(0);
      case 'float64':
        return d === undefined ? 0 : Number(d);
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'int64': {
        if (d === undefined || d === '') return 0;
        const s = String(d).trim();
        const neg = s.startsWith('-');
        const n = Number(BigInt(neg ? s.slice(1) : s));
        return neg ? -n : n;
      }
    }
    if (d === 'null') return null;
    return this.defaultStruct(f.type);
  }

  defaultStruct(type: string): Record<string, unknown> {
    const fields = this.structs.get(type);
    if (!fields) throw new Error(`${this.spec.name}: unknown struct ${type}`);
    const out: Record<string, unknown> = {};
    for (const f of this.fieldsOf(fields)) out[camel(f.name)] = this.defaultOf(f);
    return out;
  }
}

// ------------------------------------------------------------------------------------------- random values

const TEXT_CHARS = ['a', 'b', 'z', 'A', '0', '9', '-', '_', '.', ' ', 'é', 'ß', '漢', '🙂'];

class RandomMessages {
  constructor(
    readonly model: SpecModel,
    readonly rng: Rng,
  ) {}

  message(v: number): Record<string, unknown> {
    return this.struct(this.model.spec.fields as FieldSpec[], v, 0);
  }

  private struct(fields: FieldSpec[], v: number, depth: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.model.fieldsOf(fields)) {
      const key = camel(f.name);
      if (!this.model.present(f, v)) {
        out[key] = this.model.defaultOf(f);
        continue;
      }
      if (this.model.tagged(f, v) && this.rng.chance(0.4)) {
        out[key] = this.model.defaultOf(f);
        continue;
      }
      out[key] = this.field(f, v, depth);
    }
    return out;
  }

  private field(f: FieldSpec, v: number, depth: number): unknown {
    if (this.model.nullableIn(f, v) && this.rng.chance(0.2)) return null;
    const el = f.type.startsWith('[]') ? f.type.slice(2) : null;
    if (el) {
      const n = this.rng.int(0, depth >= 2 ? 2 : 3);
      const a: unknown[] = [];
      for (let i = 0; i < n; i++) {
        a.push(PRIMITIVES.has(el) ? this.primitive(el) : this.struct(this.model.structs.get(el)!, v, depth + 1));
      }
      return a;
    }
    if (PRIMITIVES.has(f.type)) return this.primitive(f.type);
    return this.struct(this.model.structs.get(f.type)!, v, depth + 1);
  }

  private primitive(type: string): unknown {
    const r = this.rng;
    switch (type) {
      case 'bool':
        return r.chance(0.5);
      case 'int8':
        return r.pick([0, -1, 127, -128, r.int(-128, 127)]);
      case 'int16':
        return r.pick([0, -1, 32767, -32768, r.int(-32768, 32767)]);
      case 'uint16':
        return r.pick([0, 65535, r.int(0, 65535)]);
      case 'int32':
        return r.pick([0, -1, 2147483647, -2147483648, r.int(-100, 100), r.int(-2147483648, 2147483647)]);
      case 'uint32':
        return r.pick([0, 4294967295, r.int(0, 4294967295)]);
      case 'int64': {
        const big = r.int(0, 2 ** 21 - 1) * 2 ** 32 + r.u32(); // up to 2^53 - 1
        return r.pick([0, -1, -2, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, r.int(-1000, 1000), big, -big]);
      }
      case 'float64':
        return r.pick([0, -0, 1.5, -2.25, Number.MAX_VALUE, Number.MIN_VALUE, Number.POSITIVE_INFINITY, Number.NaN, r.float() * 1e9 - 5e8]);
      case 'uuid': {
        if (r.chance(0.15)) return ZERO_UUID;
        const h = Buffer.from(Array.from({ length: 16 }, () => r.int(0, 255))).toString('hex');
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      }
      case 'string': {
        const n = r.pick([0, 1, 3, 8, 20]);
        let s = '';
        for (let i = 0; i < n; i++) s += r.pick(TEXT_CHARS);
        return s;
      }
      case 'bytes':
      case 'records': {
        const n = r.pick([0, 1, 5, 40, 200]);
        return Buffer.from(Array.from({ length: n }, () => r.int(0, 255)));
      }
    }
    throw new Error(`no random ${type}`);
  }
}

// ------------------------------------------------------------------------------------------- the tests

function loadSpecs(): Map<string, MessageSpec> {
  const specs = new Map<string, MessageSpec>();
  for (const file of readdirSync(messagesDir).filter((f) => f.endsWith('.json'))) {
    const spec = parseSpecJson(readFileSync(join(messagesDir, file), 'utf8'));
    if (spec.apiKey !== undefined && (spec.type === 'request' || spec.type === 'response')) specs.set(`${spec.type}:${spec.apiKey}`, spec);
  }
  return specs;
}

const describeFailure = (what: string, v: number, i: number): string =>
  `${what} v${v} case ${i} (replay with UMBRA_SEED=${SEED})`;

function roundTrip(
  codec: ApiCodec,
  direction: 'request' | 'response',
  model: SpecModel,
  rng: Rng,
): { cases: number; bytes: number } {
  const write = direction === 'request' ? codec.writeRequest : codec.writeResponse;
  const read = direction === 'request' ? codec.readRequest : codec.readResponse;
  const gen = new RandomMessages(model, rng);
  const versions = codec.maxVersion - codec.minVersion + 1;
  const perVersion = Math.max(MIN_PER_VERSION, Math.ceil(CASES_PER_API / 2 / versions));
  let cases = 0;
  let total = 0;
  for (let v = codec.minVersion; v <= codec.maxVersion; v++) {
    for (let i = 0; i < perVersion; i++) {
      const what = `${codec.name}${direction === 'request' ? 'Request' : 'Response'}`;
      const m = gen.message(v);
      const w = new Writer(64);
      write(w, v, m as never);
      const bytes = w.toBuffer();
      const r = new Reader(bytes);
      let back: unknown;
      try {
        back = read(r, v);
      } catch (err) {
        assert.fail(`${describeFailure(what, v, i)}: read failed: ${String(err)}\n${bytes.toString('hex')}`);
      }
      assert.equal(r.pos, bytes.length, `${describeFailure(what, v, i)}: ${bytes.length - r.pos} bytes left unread`);
      assert.deepStrictEqual(back, m, describeFailure(what, v, i));
      const w2 = new Writer(64);
      write(w2, v, back as never);
      assert.ok(w2.toBuffer().equals(bytes), `${describeFailure(what, v, i)}: write(read(bytes)) != bytes`);
      cases++;
      total += bytes.length;
    }
  }
  return { cases, bytes: total };
}

describe('round trip of every API at every version, from random spec-driven messages', { skip: specsPresent ? false : `no Kafka specs at ${messagesDir}` }, () => {
  const specs = specsPresent ? loadSpecs() : new Map<string, MessageSpec>();

  it('every API in API_CODECS has a request and a response spec with the same version range', () => {
    assert.ok(API_CODECS.size >= 89, `${API_CODECS.size} APIs`);
    for (const codec of API_CODECS.values()) {
      for (const dir of ['request', 'response'] as const) {
        const spec = specs.get(`${dir}:${codec.apiKey}`);
        assert.ok(spec, `${codec.name} ${dir} spec`);
        assert.deepEqual(parseRange(spec.validVersions), [codec.minVersion, codec.maxVersion], `${codec.name} ${dir} versions`);
        const flex = parseRange(spec.flexibleVersions);
        assert.equal(flex ? flex[0] : -1, codec.firstFlexibleVersion, `${codec.name} ${dir} first flexible version`);
      }
    }
  });

  let totalCases = 0;
  let totalBytes = 0;
  for (const codec of API_CODECS.values()) {
    it(`${codec.apiKey} ${codec.name} v${codec.minVersion}-${codec.maxVersion}`, () => {
      // one PRNG stream per API, so adding an API does not change the cases of the others
      const rng = new Rng(SEED ^ Math.imul(codec.apiKey + 1, 0x9e3779b1));
      for (const dir of ['request', 'response'] as const) {
        const model = new SpecModel(specs.get(`${dir}:${codec.apiKey}`)!);
        const { cases, bytes } = roundTrip(codec, dir, model, rng);
        assert.ok(cases >= MIN_PER_VERSION);
        totalCases += cases;
        totalBytes += bytes;
      }
    });
  }

  it('summary', (t) => {
    t.diagnostic(`${totalCases} round trips of ${API_CODECS.size} APIs, ${totalBytes} bytes, seed ${SEED}`);
    assert.ok(totalCases > 0);
  });
});

/** The generated module of every spec that is not an API request/response: headers, schemas embedded in other
 *  messages (consumer protocol, KRaft control records) and the internal topics' record keys and values. */
function otherSpecs(): { spec: MessageSpec; module: string }[] {
  const out: { spec: MessageSpec; module: string }[] = [];
  for (const file of readdirSync(messagesDir).filter((f) => f.endsWith('.json')).sort()) {
    const spec = parseSpecJson(readFileSync(join(messagesDir, file), 'utf8'));
    if (spec.type === 'request' || spec.type === 'response' || parseRange(spec.validVersions) === null) continue;
    out.push({ spec, module: `../../src/protocol/generated/messages/${spec.name}.js` });
  }
  for (const sub of ['group-coordinator', 'transaction-coordinator']) {
    const dir = join(protocolDir, 'internal', sub);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const spec = parseSpecJson(readFileSync(join(dir, file), 'utf8'));
      out.push({ spec, module: `../../src/protocol/generated/internal/${sub}/${spec.name}.js` });
    }
  }
  return out;
}

interface MessageModule {
  minVersion: number;
  maxVersion: number;
  read(r: Reader, v: number): unknown;
  write(w: Writer, v: number, m: never): void;
}

describe('round trip of every other generated message (headers, embedded schemas, internal records)', { skip: specsPresent ? false : `no Kafka specs at ${messagesDir}` }, () => {
  for (const { spec, module } of specsPresent ? otherSpecs() : []) {
    it(`${spec.name} v${spec.validVersions}`, async () => {
      const mod = (await import(module)) as MessageModule;
      const model = new SpecModel(spec);
      assert.deepEqual([mod.minVersion, mod.maxVersion], model.valid);
      let seed = SEED;
      for (const ch of spec.name) seed = Math.imul(seed ^ ch.charCodeAt(0), 0x01000193);
      const rng = new Rng(seed);
      const gen = new RandomMessages(model, rng);
      for (let v = mod.minVersion; v <= mod.maxVersion; v++) {
        for (let i = 0; i < 20; i++) {
          const m = gen.message(v);
          const w = new Writer(64);
          mod.write(w, v, m as never);
          const bytes = w.toBuffer();
          const r = new Reader(bytes);
          const back = mod.read(r, v);
          assert.equal(r.pos, bytes.length, describeFailure(spec.name, v, i));
          assert.deepStrictEqual(back, m, describeFailure(spec.name, v, i));
          const w2 = new Writer(64);
          mod.write(w2, v, back as never);
          assert.ok(w2.toBuffer().equals(bytes), `${describeFailure(spec.name, v, i)}: write(read(bytes)) != bytes`);
        }
      }
    });
  }
});

describe('the spec-driven generator itself', { skip: specsPresent ? false : 'no Kafka specs' }, () => {
  it('produces the same messages for the same seed, and different ones for another', () => {
    const spec = loadSpecs().get('request:3')!;
    const a = new RandomMessages(new SpecModel(spec), new Rng(1)).message(12);
    const b = new RandomMessages(new SpecModel(spec), new Rng(1)).message(12);
    const c = new RandomMessages(new SpecModel(spec), new Rng(2)).message(12);
    assert.deepStrictEqual(a, b);
    assert.notDeepStrictEqual(
      [a, ...Array.from({ length: 5 }, () => new RandomMessages(new SpecModel(spec), new Rng(1)).message(12))],
      [c, ...Array.from({ length: 5 }, (_, i) => new RandomMessages(new SpecModel(spec), new Rng(3 + i)).message(12))],
    );
  });

  it('fills fields absent from a version with their spec defaults', () => {
    const spec = loadSpecs().get('request:1')!; // FetchRequest
    const m = new RandomMessages(new SpecModel(spec), new Rng(7)).message(4);
    // ClusterId (12+, default null), SessionEpoch (7+, default -1), ReplicaState (15+, struct of -1s)
    assert.equal(m.clusterId, null);
    assert.equal(m.sessionEpoch, -1);
    assert.deepEqual(m.replicaState, { replicaId: -1, replicaEpoch: -1 });
    assert.equal(m.replicaId === -1 || typeof m.replicaId === 'number', true);
  });
});
