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
import { join } from 'node:path';
import { parseSpecJson } from '../../scripts/gen-protocol.js';
import { RandomMessages, Rng, SpecModel, loadSpecs, messagesDir, protocolDir, specsPresent, type FieldSpec, type MessageSpec, parseRange } from './random-messages.js';
import { API_CODECS, type ApiCodec } from '../../src/protocol/generated/api.js';
import { Reader, Writer, ZERO_UUID } from '../../src/protocol/primitives.js';

const SEED = Number(process.env.UMBRA_SEED ?? 0x5eed_4b1d);
/** cases per API and direction, spread over its versions (at least MIN_PER_VERSION each) */
const CASES_PER_API = Number(process.env.UMBRA_ROUNDTRIP_CASES ?? 300);
const MIN_PER_VERSION = 4;

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
