// Random Kafka messages driven by the JSON specs themselves (shared by the codec round-trip test and the broker
// fuzz test): for a message spec and a version, every field present in that version gets a random value of its
// type. Seeded, so failures replay.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSpecJson } from '../../scripts/gen-protocol.js';
import { ZERO_UUID } from '../../src/protocol/primitives.js';

export type MessageSpec = ReturnType<typeof parseSpecJson>;
export type FieldSpec = MessageSpec['fields'][number] & { tag?: number; taggedVersions?: string };

export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || dir.endsWith('/dist')) {
    const up = dirname(dir);
    if (up === dir) throw new Error('no package.json above the test file');
    dir = up;
  }
  return dir;
}

export const protocolDir = join(projectRoot(), '..', 'shared', 'kafka-protocol');
export const messagesDir = join(protocolDir, 'messages');
export const specsPresent = existsSync(messagesDir);

// ------------------------------------------------------------------------------------------- seeded PRNG

/** sfc32: small, fast, and good enough for test data */
export class Rng {
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

export const INF = Number.POSITIVE_INFINITY;

export function parseRange(s: string | undefined): [number, number] | null {
  if (s === undefined || s === 'none' || s === '') return null;
  if (s.endsWith('+')) return [Number(s.slice(0, -1)), INF];
  const dash = s.indexOf('-');
  if (dash > 0) return [Number(s.slice(0, dash)), Number(s.slice(dash + 1))];
  return [Number(s), Number(s)];
}
export const inRange = (s: string | undefined, v: number): boolean => {
  const r = parseRange(s);
  return r !== null && v >= r[0] && v <= r[1];
};
export const overlaps = (s: string | undefined, valid: [number, number]): boolean => {
  const r = parseRange(s);
  return r !== null && r[0] <= valid[1] && r[1] >= valid[0];
};

export const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'uuid', 'string', 'bytes', 'records']);
export const camel = (name: string): string => name[0]!.toLowerCase() + name.slice(1);

export class SpecModel {
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

export class RandomMessages {
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


export function loadSpecs(): Map<string, MessageSpec> {
  const specs = new Map<string, MessageSpec>();
  for (const file of readdirSync(messagesDir).filter((f) => f.endsWith('.json'))) {
    const spec = parseSpecJson(readFileSync(join(messagesDir, file), 'utf8'));
    if (spec.apiKey !== undefined && (spec.type === 'request' || spec.type === 'response')) specs.set(`${spec.type}:${spec.apiKey}`, spec);
  }
  return specs;
}

