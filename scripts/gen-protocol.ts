// Generates TypeScript codecs from Kafka's JSON message specs.
//
//   npm run gen                 read ../shared/kafka-protocol, write src/protocol/generated/ and test/protocol/generated/
//   npm run gen -- --check      exit 1 if the committed output differs from what the specs generate
//
// One module per spec file: an interface per struct (field names camelCased from the spec), `readX(r, version)`
// that fills every field (spec defaults where a version lacks one) and `writeX(w, version, message)` that takes a
// deep-optional input. Versions, nullability, flexible (compact) encodings and tagged fields follow the spec rules
// in kafka-protocol/NOTES.md (d). Only names, types and versions are carried over; the specs' prose is not.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateErrorCodes } from './gen-errors.js';

// ---------------------------------------------------------------------------------------------- spec model

interface FieldSpec {
  name: string;
  type: string;
  versions?: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: FieldSpec[];
  flexibleVersions?: string;
}

interface MessageSpec {
  apiKey?: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: FieldSpec[];
  commonStructs?: { name: string; versions: string; fields: FieldSpec[] }[];
  latestVersionUnstable?: boolean;
  listeners?: string[];
}

type Range = readonly [number, number]; // inclusive; hi may be Infinity
const INF = Number.POSITIVE_INFINITY;

function parseRange(s: string | undefined): Range | null {
  if (s === undefined || s === 'none' || s === '') return null;
  const t = s.trim();
  if (t.endsWith('+')) return [Number(t.slice(0, -1)), INF];
  const dash = t.indexOf('-');
  if (dash > 0) return [Number(t.slice(0, dash)), Number(t.slice(dash + 1))];
  const n = Number(t);
  return [n, n];
}

/** JSON with // and /* comments, stripped by a string-aware scan. */
export function parseSpecJson(text: string): MessageSpec {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i < 0) throw new Error('unterminated comment');
      i += 2;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out) as MessageSpec;
}

// ---------------------------------------------------------------------------------------------- naming

const RESERVED = new Set(['default', 'delete', 'new', 'function', 'class', 'in', 'var', 'let', 'const', 'enum', 'export', 'import', 'return', 'this', 'typeof', 'void', 'with', 'yield', 'case', 'switch', 'null', 'true', 'false']);

export function camel(name: string): string {
  if (name.length === 0) return name;
  // Leading acronyms: "ACLs" stays readable as "aCLs" in Kafka's own JSON converter; we keep it simple and
  // lowercase only the first character, matching Kafka's generated JSON field names.
  return name[0]!.toLowerCase() + name.slice(1);
}

function pascal(name: string): string {
  return name[0]!.toUpperCase() + name.slice(1);
}

// ---------------------------------------------------------------------------------------------- generator

interface StructDef {
  name: string;
  fields: FieldSpec[];
}

const PRIMITIVE_TS: Record<string, string> = {
  bool: 'boolean',
  int8: 'number',
  int16: 'number',
  uint16: 'number',
  int32: 'number',
  uint32: 'number',
  int64: 'number',
  float64: 'number',
  uuid: 'string',
  string: 'string',
  bytes: 'Buffer',
  records: 'Buffer',
};

const NUMERIC = new Set(['int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64']);

function isPrimitive(t: string): boolean {
  return t in PRIMITIVE_TS;
}

function elemType(t: string): string | null {
  return t.startsWith('[]') ? t.slice(2) : null;
}

class Emitter {
  private lines: string[] = [];
  private depth = 0;
  line(s = ''): void {
    this.lines.push(s === '' ? '' : '  '.repeat(this.depth) + s);
  }
  open(s: string): void {
    this.line(s);
    this.depth++;
  }
  close(s = '}'): void {
    this.depth--;
    this.line(s);
  }
  /** a line between two blocks, such as `} else {` */
  mid(s: string): void {
    this.depth--;
    this.line(s);
    this.depth++;
  }
  dedent(): void {
    this.depth--;
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

class MessageGenerator {
  readonly spec: MessageSpec;
  readonly valid: Range;
  readonly flex: Range | null;
  readonly structs = new Map<string, StructDef>();
  private readonly out = new Emitter();
  private readonly importPath: string;

  constructor(spec: MessageSpec, importPath: string) {
    this.spec = spec;
    const valid = parseRange(spec.validVersions);
    if (!valid) throw new Error(`${spec.name}: no valid versions`);
    this.valid = valid;
    this.flex = parseRange(spec.flexibleVersions);
    this.importPath = importPath;
    for (const cs of spec.commonStructs ?? []) this.structs.set(cs.name, { name: cs.name, fields: cs.fields });
    this.collect(spec.fields);
  }

  private collect(fields: FieldSpec[]): void {
    for (const f of fields) {
      const base = elemType(f.type) ?? f.type;
      if (!isPrimitive(base)) {
        if (f.fields) {
          if (this.structs.has(base) && this.structs.get(base)!.fields !== f.fields) {
            throw new Error(`${this.spec.name}: struct ${base} defined twice`);
          }
          this.structs.set(base, { name: base, fields: f.fields });
          this.collect(f.fields);
        } else if (!this.structs.has(base)) {
          // commonStructs are collected first; anything else must be defined inline
          throw new Error(`${this.spec.name}: unknown type ${f.type} of ${f.name}`);
        }
      }
    }
  }

  /** The versions a field exists in, clipped to the message's valid versions. */
  private fieldVersions(f: FieldSpec): Range | null {
    const r = parseRange(f.versions ?? f.taggedVersions);
    if (!r) return null;
    const lo = Math.max(r[0], this.valid[0]);
    const hi = Math.min(r[1], this.valid[1]);
    return lo <= hi ? [lo, hi] : null;
  }

  /** A boolean expression for "v is in range", simplified against the message's valid versions. */
  private cond(r: Range | null): string {
    if (!r) return 'false';
    const lo = Math.max(r[0], this.valid[0]);
    const hi = Math.min(r[1], this.valid[1]);
    if (lo > hi) return 'false';
    const parts: string[] = [];
    if (lo > this.valid[0]) parts.push(`v >= ${lo}`);
    if (hi < this.valid[1]) parts.push(`v <= ${hi}`);
    return parts.length === 0 ? 'true' : parts.join(' && ');
  }

  private flexCond(f?: FieldSpec): string {
    if (f?.flexibleVersions !== undefined) return this.cond(parseRange(f.flexibleVersions));
    return this.flex ? 'flex' : 'false';
  }

  private nullable(f: FieldSpec): boolean {
    return parseRange(f.nullableVersions) !== null || f.default === 'null';
  }

  private tsType(f: FieldSpec): string {
    const el = elemType(f.type);
    const n = this.nullable(f) ? ' | null' : '';
    if (el) {
      const inner = isPrimitive(el) ? PRIMITIVE_TS[el]! : el;
      return `${inner}[]${n}`;
    }
    if (isPrimitive(f.type)) return PRIMITIVE_TS[f.type]! + n;
    return f.type + n;
  }

  private defaultExpr(f: FieldSpec): string {
    const d = f.default;
    const el = elemType(f.type);
    if (el) return d === 'null' ? 'null' : '[]';
    switch (f.type) {
      case 'bool':
        return d === true || d === 'true' ? 'true' : 'false';
      case 'string':
        if (d === 'null') return 'null';
        return JSON.stringify(d === undefined ? '' : String(d));
      case 'uuid':
        if (d === undefined || d === '' || d === 'null') return 'ZERO_UUID';
        return JSON.stringify(uuidFromBase64Text(String(d)));
      case 'bytes':
        // Kafka's default for bytes is empty unless the spec says "null", even when the field is nullable
        // (FieldSpec.fieldDefault); it decides whether a tagged field is written and what an absent one reads as.
        return d === 'null' ? 'null' : 'EMPTY';
      case 'records':
        return this.nullable(f) ? 'null' : 'EMPTY';
      default:
        if (NUMERIC.has(f.type)) {
          if (d === undefined || d === '') return '0';
          const s = String(d).trim();
          if (f.type === 'float64') return String(Number(s));
          const neg = s.startsWith('-');
          const body = neg ? s.slice(1) : s;
          const big = BigInt(body);
          return String(Number(neg ? -big : big));
        }
        if (d === 'null') return 'null';
        return `default${f.type}()`;
    }
  }

  private readPrimitive(t: string, nullableC: string, flexC: string): string {
    switch (t) {
      case 'bool':
        return 'r.bool()';
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'int64':
      case 'float64':
      case 'uuid':
        return `r.${t}()`;
      case 'string':
        return this.variant('r', 'String', nullableC, flexC, '()');
      case 'bytes':
      case 'records':
        return this.variant('r', 'Bytes', nullableC, flexC, '()');
    }
    throw new Error(`not primitive: ${t}`);
  }

  /** r.string / r.nullableString / r.compactString / r.compactNullableString chosen by (possibly runtime) conditions */
  private variant(obj: string, kind: 'String' | 'Bytes', nullableC: string, flexC: string, args: string): string {
    const pick = (nul: boolean, flex: boolean): string => {
      const name = flex ? (nul ? `compactNullable${kind}` : `compact${kind}`) : nul ? `nullable${kind}` : kind.toLowerCase();
      return `${obj}.${name}${args}`;
    };
    const byFlex = (nul: boolean): string =>
      flexC === 'true' ? pick(nul, true) : flexC === 'false' ? pick(nul, false) : `(${flexC} ? ${pick(nul, true)} : ${pick(nul, false)})`;
    if (nullableC === 'true') return byFlex(true);
    if (nullableC === 'false') return byFlex(false);
    return `(${nullableC} ? ${byFlex(true)} : ${byFlex(false)})`;
  }

  private emitReadField(e: Emitter, f: FieldSpec, target: string, flexC: string, tagged = false): void {
    const nullableC = this.cond(parseRange(f.nullableVersions));
    const el = elemType(f.type);
    if (el) {
      e.open('{');
      e.line(`const n = r.arrayLength(${flexC});`);
      e.open('if (n < 0) {');
      if (nullableC === 'false') e.line(`throw new ProtocolError('null array ${f.name}');`);
      else if (nullableC === 'true') e.line(`${target} = null;`);
      else {
        e.line(`if (!(${nullableC})) throw new ProtocolError('null array ${f.name}');`);
        e.line(`${target} = null;`);
      }
      e.mid('} else {');
      const inner = isPrimitive(el) ? PRIMITIVE_TS[el]! : el;
      e.line(`const a: ${inner}[] = new Array(n);`);
      const elemRead = isPrimitive(el) ? this.readPrimitive(el, 'false', flexC) : `read${el}(r, v)`;
      e.line(`for (let i = 0; i < n; i++) a[i] = ${elemRead};`);
      e.line(`${target} = a;`);
      e.close('}');
      e.close('}');
      return;
    }
    if (isPrimitive(f.type)) {
      e.line(`${target} = ${this.readPrimitive(f.type, nullableC, flexC)};`);
      return;
    }
    // A nullable struct is prefixed by int8 -1/1; inside a tagged field Kafka writes the marker as uvarint 0/1
    // and reads "<= 0" as null (MessageDataGenerator.generateStructReader).
    const isNull = tagged ? 'r.uvarint() === 0' : 'r.int8() < 0';
    if (nullableC === 'false') e.line(`${target} = read${f.type}(r, v);`);
    else if (nullableC === 'true') e.line(`${target} = ${isNull} ? null : read${f.type}(r, v);`);
    else e.line(`${target} = ${nullableC} && ${isNull} ? null : read${f.type}(r, v);`);
  }

  private emitWriteValue(e: Emitter, f: FieldSpec, value: string, flexC: string, w = 'w', tagged = false): void {
    const nullableC = this.cond(parseRange(f.nullableVersions));
    const el = elemType(f.type);
    const nullGuard = (what: string, insideNullBranch = false): void => {
      if (nullableC === 'true') return;
      const msg = `throw new ProtocolError('${f.name} is not nullable in version ' + v);`;
      if (insideNullBranch && nullableC === 'false') e.line(msg);
      else e.line(`if (${insideNullBranch ? '' : `${what} === null`}${insideNullBranch ? `!(${nullableC})` : nullableC === 'false' ? '' : ` && !(${nullableC})`}) ${msg}`);
    };
    if (el) {
      e.line(`const a = ${value};`);
      e.open('if (a === null) {');
      nullGuard('a', true);
      e.line(`${w}.arrayLength(null, ${flexC});`);
      e.mid('} else {');
      e.line(`${w}.arrayLength(a.length, ${flexC});`);
      if (isPrimitive(el)) e.line(`for (const x of a) ${this.writePrimitive(el, 'x', 'false', flexC, w)};`);
      else e.line(`for (const x of a) write${el}(${w}, v, x);`);
      e.close('}');
      return;
    }
    if (isPrimitive(f.type)) {
      if (f.type === 'string' || f.type === 'bytes' || f.type === 'records') {
        e.line(`const s = ${value};`);
        nullGuard('s');
        e.line(`${this.writePrimitive(f.type, 's', nullableC === 'false' ? 'false' : 'true', flexC, w)};`);
      } else {
        e.line(`${this.writePrimitive(f.type, value, 'false', flexC, w)};`);
      }
      return;
    }
    e.line(`const s = ${value};`);
    if (nullableC === 'false') {
      e.line(`write${f.type}(${w}, v, s ?? {});`);
    } else {
      const marker = (n: number): string => (tagged ? `${w}.uvarint(${n < 0 ? 0 : n})` : `${w}.int8(${n})`);
      e.open('if (s === null) {');
      nullGuard('s', true);
      e.line(`${marker(-1)};`);
      e.mid('} else {');
      if (nullableC === 'true') e.line(`${marker(1)};`);
      else e.line(`if (${nullableC}) ${marker(1)};`);
      e.line(`write${f.type}(${w}, v, s);`);
      e.close('}');
    }
  }

  private writePrimitive(t: string, value: string, nullableC: string, flexC: string, w: string): string {
    switch (t) {
      case 'bool':
      case 'int8':
      case 'int16':
      case 'uint16':
      case 'int32':
      case 'uint32':
      case 'int64':
      case 'float64':
      case 'uuid':
        return `${w}.${t}(${value})`;
      case 'string':
        return this.variant(w, 'String', nullableC, flexC, `(${value}${nullableC === 'false' ? ' as string' : ''})`);
      case 'bytes':
      case 'records':
        return this.variant(w, 'Bytes', nullableC, flexC, `(${value}${nullableC === 'false' ? ' as BytesInput' : ''})`);
    }
    throw new Error(`not primitive: ${t}`);
  }

  /**
   * The value a writer takes for field f from its input `m`. A missing field takes the spec default; an explicit
   * null is kept when the field is nullable (`??` would turn it into the default: a null Metadata topic list,
   * meaning "all topics", would be written as an empty one).
   */
  private inputExpr(f: FieldSpec): string {
    const name = `m.${camel(f.name)}`;
    const d = this.defaultExpr(f);
    return this.nullable(f) && d !== 'null' ? `(${name} === undefined ? ${d} : ${name})` : `${name} ?? ${d}`;
  }

  /**
   * Expression that is true when a tagged field's value differs from its default (then it is written), as Kafka's
   * FieldSpec.generateNonDefaultValueCheck: a null value of a field whose default is not null is written too.
   */
  private nonDefault(f: FieldSpec, value: string): string {
    const el = elemType(f.type);
    const d = this.defaultExpr(f);
    const nullable = this.nullable(f);
    if (el || f.type === 'bytes' || f.type === 'records') {
      if (d === 'null') return `${value} !== null`;
      return nullable ? `(${value} === null || ${value}.length > 0)` : `${value}.length > 0`;
    }
    if (isPrimitive(f.type)) return `${value} !== ${d}`;
    if (d === 'null') return `${value} !== null`;
    this.defaultChecks.add(f.type);
    return nullable ? `(${value} === null || !isDefault${f.type}(${value}))` : `!isDefault${f.type}(${value})`;
  }

  /** Struct types whose tagged fields need an isDefault check (Kafka compares with `new Struct()`). */
  readonly defaultChecks = new Set<string>();

  /** `isDefaultX(m)`: every field of struct X (in any version) equals its default, like Java's equals(new X()). */
  generateIsDefault(name: string): void {
    const e = this.out;
    const fields = this.structs.get(name)?.fields ?? this.spec.fields;
    const present = fields.filter((f) => this.fieldVersions(f) !== null);
    const terms: string[] = [];
    for (const f of present) {
      const x = `m.${camel(f.name)}`;
      const d = this.defaultExpr(f);
      const el = elemType(f.type);
      if (el || f.type === 'bytes' || f.type === 'records') {
        terms.push(d === 'null' ? `${x} == null` : `(${x} === undefined || (${x} !== null && ${x}.length === 0))`);
      } else if (isPrimitive(f.type)) {
        terms.push(`(${x} === undefined || ${x} === ${d})`);
      } else if (d === 'null') {
        terms.push(`${x} == null`);
      } else {
        this.defaultChecks.add(f.type);
        terms.push(`(${x} === undefined || (${x} !== null && isDefault${f.type}(${x})))`);
      }
    }
    e.open(`export function isDefault${name}(m: Input<${name}>): boolean {`);
    if (terms.length === 0) e.line('return true;');
    else {
      e.line(`return ${terms[0]}${terms.length === 1 ? ';' : ''}`);
      for (let i = 1; i < terms.length; i++) e.line(`  && ${terms[i]}${i === terms.length - 1 ? ';' : ''}`);
    }
    e.close();
    e.line();
  }

  generateStruct(name: string, fields: FieldSpec[], top: boolean): void {
    const e = this.out;
    const present = fields.filter((f) => this.fieldVersions(f) !== null);
    const untagged = present.filter((f) => f.tag === undefined);
    const tagged = present.filter((f) => f.tag !== undefined).sort((a, b) => a.tag! - b.tag!);

    // interface
    e.open(`export interface ${name} {`);
    for (const f of present) e.line(`${camel(f.name)}: ${this.tsType(f)};`);
    e.close();
    e.line();

    // defaults
    e.open(`export function default${name}(): ${name} {`);
    e.open('return {');
    for (const f of present) e.line(`${camel(f.name)}: ${this.defaultExpr(f)},`);
    e.close('};');
    e.close();
    e.line();

    // reader
    const fnName = `read${name}`;
    e.open(`export function ${fnName}(r: Reader, v: number): ${name} {`);
    if (this.flex) e.line(`const flex = ${this.cond(this.flex)};`);
    const local = (f: FieldSpec): string => `f_${camel(f.name)}`;
    for (const f of present) e.line(`let ${local(f)}: ${this.tsType(f)} = ${this.defaultExpr(f)};`);
    for (const f of untagged) {
      const c = this.cond(this.fieldVersions(f));
      const flexC = this.flexCond(f);
      if (c === 'true') {
        this.emitReadField(e, f, local(f), flexC);
      } else {
        e.open(`if (${c}) {`);
        this.emitReadField(e, f, local(f), flexC);
        e.close();
      }
    }
    if (this.flex) {
      e.open('if (flex) {');
      if (tagged.length === 0) {
        e.line('r.skipTaggedFields();');
      } else {
        e.line('const numTags = r.uvarint();');
        e.open('for (let i = 0; i < numTags; i++) {');
        e.line('const tag = r.uvarint();');
        e.line('const size = r.uvarint();');
        e.line('if (size > r.remaining) throw new ProtocolError(`tagged field ${tag} of size ${size} exceeds the message`);');
        e.line('const end = r.pos + size;');
        e.open('switch (tag) {');
        for (const f of tagged) {
          const tc = this.cond(parseRange(f.taggedVersions));
          e.open(`case ${f.tag}:`);
          e.open(`if (${tc}) {`);
          this.emitReadField(e, f, local(f), 'true', true);
          e.close();
          e.line('break;');
          e.dedent();
        }
        e.close();
        e.line("if (r.pos > end) throw new ProtocolError('tagged field overran its size');");
        e.line('r.pos = end;');
        e.close();
      }
      e.close();
    }
    e.open('return {');
    for (const f of present) e.line(`${camel(f.name)}: ${local(f)},`);
    e.close('};');
    e.close();
    e.line();

    // writer
    e.open(`export function write${name}(w: Writer, v: number, m: Input<${name}>): void {`);
    if (this.flex) e.line(`const flex = ${this.cond(this.flex)};`);
    for (const f of untagged) {
      const c = this.cond(this.fieldVersions(f));
      const flexC = this.flexCond(f);
      e.open(c === 'true' ? '{' : `if (${c}) {`);
      this.emitWriteValue(e, f, this.inputExpr(f), flexC);
      e.close();
    }
    if (this.flex) {
      e.open('if (flex) {');
      if (tagged.length === 0) {
        e.line('w.uvarint(0);');
      } else {
        e.line('let numTags = 0;');
        for (const f of tagged) {
          const tc = this.cond(parseRange(f.taggedVersions));
          e.line(`const t_${camel(f.name)} = ${this.inputExpr(f)};`);
          e.line(`const has_${camel(f.name)} = ${tc === 'true' ? '' : `(${tc}) && `}${this.nonDefault(f, `t_${camel(f.name)}`)};`);
          e.line(`if (has_${camel(f.name)}) numTags++;`);
        }
        e.line('w.uvarint(numTags);');
        for (const f of tagged) {
          e.open(`if (has_${camel(f.name)}) {`);
          e.line(`w.uvarint(${f.tag});`);
          e.line('const tw = new Writer(64);');
          e.open('{');
          this.emitWriteValue(e, f, `t_${camel(f.name)}`, 'true', 'tw', true);
          e.close();
          e.line('const tb = tw.toBuffer();');
          e.line('w.uvarint(tb.length);');
          e.line('w.raw(tb);');
          e.close();
        }
      }
      e.close();
    }
    e.close();
    e.line();
    void top;
  }

  generate(sourceName: string): string {
    const e = this.out;
    const s = this.spec;
    e.line(`// Generated by scripts/gen-protocol.ts from ${sourceName}. Do not edit.`);
    e.line('/* eslint-disable */');
    e.line(`import { EMPTY, ProtocolError, Reader, Writer, ZERO_UUID, type BytesInput, type Input } from '${this.importPath}';`);
    e.line();
    if (s.apiKey !== undefined) e.line(`export const apiKey = ${s.apiKey};`);
    e.line(`export const minVersion = ${this.valid[0]};`);
    e.line(`export const maxVersion = ${this.valid[1]};`);
    e.line(`/** highest version to advertise (Kafka does not advertise a last version marked unstable) */`);
    e.line(`export const maxStableVersion = ${s.latestVersionUnstable ? this.valid[1] - 1 : this.valid[1]};`);
    e.line(`/** first flexible version, or -1 when never flexible */`);
    e.line(`export const firstFlexibleVersion = ${this.flex ? this.flex[0] : -1};`);
    e.line();
    // nested structs first, then the top-level message (order does not matter for function declarations)
    const emitted = new Set<string>();
    const emitStruct = (name: string): void => {
      if (emitted.has(name)) return;
      emitted.add(name);
      const def = this.structs.get(name)!;
      this.generateStruct(name, def.fields, false);
    };
    this.generateStruct(s.name, s.fields, true);
    for (const name of this.structs.keys()) emitStruct(name);
    // isDefault checks for tagged struct fields (a check may ask for more, so loop until none is new)
    const checked = new Set<string>();
    for (let more = true; more; ) {
      more = false;
      for (const name of [...this.defaultChecks].sort()) {
        if (checked.has(name)) continue;
        checked.add(name);
        this.generateIsDefault(name);
        more = true;
      }
    }
    e.line(`export { read${s.name} as read, write${s.name} as write };`);
    return e.text();
  }
}

function uuidFromBase64Text(s: string): string {
  const b = Buffer.from(s, 'base64url');
  if (b.length !== 16) throw new Error(`bad uuid default ${s}`);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------------------------------------- api registry

function generateApiIndex(requests: MessageSpec[], responses: Map<number, MessageSpec>): string {
  const lines: string[] = [
    '// Generated by scripts/gen-protocol.ts. Do not edit.',
    '// Every API Kafka 4.1 defines, with its codecs. The broker advertises only the keys it has handlers for.',
    "import type { Reader, Writer } from '../primitives.js';",
  ];
  const sorted = [...requests].sort((a, b) => a.apiKey! - b.apiKey!);
  for (const rq of sorted) {
    const rs = responses.get(rq.apiKey!)!;
    lines.push(`import * as ${rq.name} from './messages/${rq.name}.js';`);
    lines.push(`import * as ${rs.name} from './messages/${rs.name}.js';`);
  }
  lines.push('');
  lines.push('export interface ApiCodec {');
  lines.push('  apiKey: number;');
  lines.push('  name: string;');
  lines.push('  minVersion: number;');
  lines.push('  maxVersion: number;');
  lines.push('  maxStableVersion: number;');
  lines.push('  firstFlexibleVersion: number;');
  lines.push('  readRequest(r: Reader, v: number): unknown;');
  lines.push('  writeRequest(w: Writer, v: number, m: never): void;');
  lines.push('  readResponse(r: Reader, v: number): unknown;');
  lines.push('  writeResponse(w: Writer, v: number, m: never): void;');
  lines.push('}');
  lines.push('');
  lines.push('export const ApiKey = {');
  for (const rq of sorted) lines.push(`  ${rq.name.replace(/Request$/, '')}: ${rq.apiKey},`);
  lines.push('} as const;');
  lines.push('');
  lines.push('export const API_CODECS: ReadonlyMap<number, ApiCodec> = new Map<number, ApiCodec>([');
  for (const rq of sorted) {
    const rs = responses.get(rq.apiKey!)!;
    const name = rq.name.replace(/Request$/, '');
    lines.push(
      `  [${rq.apiKey}, { apiKey: ${rq.apiKey}, name: '${name}', minVersion: ${rq.name}.minVersion, maxVersion: ${rq.name}.maxVersion, ` +
        `maxStableVersion: ${rq.name}.maxStableVersion, firstFlexibleVersion: ${rq.name}.firstFlexibleVersion, ` +
        `readRequest: ${rq.name}.read, writeRequest: ${rq.name}.write as ApiCodec['writeRequest'], ` +
        `readResponse: ${rs.name}.read, writeResponse: ${rs.name}.write as ApiCodec['writeResponse'] }],`,
    );
  }
  lines.push(']);');
  lines.push('');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------- driver

export interface GeneratedFile {
  path: string; // relative to the project root
  text: string;
}

export function generateAll(protocolDir: string): GeneratedFile[] {
  const files: GeneratedFile[] = [];
  const msgDir = join(protocolDir, 'messages');
  const requests: MessageSpec[] = [];
  const responses = new Map<number, MessageSpec>();
  for (const file of readdirSync(msgDir).filter((f) => f.endsWith('.json')).sort()) {
    const spec = parseSpecJson(readFileSync(join(msgDir, file), 'utf8'));
    if (parseRange(spec.validVersions) === null) continue; // removed ZooKeeper-era stubs
    const gen = new MessageGenerator(spec, '../../primitives.js');
    files.push({ path: `src/protocol/generated/messages/${spec.name}.ts`, text: gen.generate(`messages/${file}`) });
    if (spec.type === 'request') requests.push(spec);
    if (spec.type === 'response') responses.set(spec.apiKey!, spec);
  }
  files.push({ path: 'src/protocol/generated/api.ts', text: generateApiIndex(requests.filter((r) => responses.has(r.apiKey!)), responses) });
  for (const sub of ['group-coordinator', 'transaction-coordinator']) {
    const dir = join(protocolDir, 'internal', sub);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const spec = parseSpecJson(readFileSync(join(dir, file), 'utf8'));
      const gen = new MessageGenerator(spec, '../../../primitives.js');
      files.push({ path: `src/protocol/generated/internal/${sub}/${spec.name}.ts`, text: gen.generate(`internal/${sub}/${file}`) });
    }
  }
  const testDir = join(protocolDir, 'generator-test-specs');
  if (existsSync(testDir)) {
    for (const file of readdirSync(testDir).filter((f) => f.endsWith('.json')).sort()) {
      const spec = parseSpecJson(readFileSync(join(testDir, file), 'utf8'));
      const gen = new MessageGenerator(spec, '../../../src/protocol/primitives.js');
      files.push({ path: `test/protocol/generated/${spec.name}.ts`, text: gen.generate(`generator-test-specs/${file}`) });
    }
  }
  files.push({ path: 'src/protocol/generated/error-codes.ts', text: generateErrorCodes(join(protocolDir, 'errors.tsv')) });
  return files;
}

function main(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = basename(dirname(here)) === 'dist' ? join(here, '..', '..') : join(here, '..');
  const protocolDir = join(root, '..', 'shared', 'kafka-protocol');
  const check = process.argv.includes('--check');
  const files = generateAll(protocolDir);
  let differ = 0;
  if (!check) {
    rmSync(join(root, 'src/protocol/generated/messages'), { recursive: true, force: true });
    rmSync(join(root, 'src/protocol/generated/internal'), { recursive: true, force: true });
  }
  for (const f of files) {
    const p = join(root, f.path);
    if (check) {
      if (!existsSync(p) || readFileSync(p, 'utf8') !== f.text) {
        console.error(`differs: ${f.path}`);
        differ++;
      }
      continue;
    }
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.text);
  }
  if (check && differ > 0) process.exit(1);
  console.log(`${check ? 'checked' : 'wrote'} ${files.length} files`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
