// The vocabulary Kafka uses to describe a configuration key: its type, default, validation, synonyms and where a
// value came from. Topic configs (topic-config.ts) and broker configs (broker-configs.ts) are catalogues of these.
//
// Values are kept as strings, as Kafka keeps them in metadata and returns them in DescribeConfigs: a LONG such as
// 9223372036854775807 (Long.MAX_VALUE, the "never" of flush.ms) does not survive a trip through a JS number.

/** DescribeConfigs v3+ `ConfigType`. */
export const ConfigType = {
  BOOLEAN: 1,
  STRING: 2,
  INT: 3,
  SHORT: 4,
  LONG: 5,
  DOUBLE: 6,
  LIST: 7,
  CLASS: 8,
  PASSWORD: 9,
} as const;
export type ConfigTypeName = keyof typeof ConfigType;

/** DescribeConfigs v1+ `ConfigSource` (and the synonyms' sources). */
export const ConfigSource = {
  UNKNOWN: 0,
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;
export type ConfigSourceCode = (typeof ConfigSource)[keyof typeof ConfigSource];

export function configSourceName(code: ConfigSourceCode): keyof typeof ConfigSource {
  for (const [name, c] of Object.entries(ConfigSource)) if (c === code) return name as keyof typeof ConfigSource;
  return 'UNKNOWN';
}

/** Checks a parsed value; returns the reason it is invalid, or null. `describe` is Kafka's "Valid Values" column. */
export interface Validator {
  readonly describe: string;
  check(value: string): string | null;
}

export interface ConfigKeyDef {
  readonly name: string;
  readonly type: ConfigTypeName;
  /** normalized string form, or null when the key has no default (Kafka shows "null") */
  readonly default: string | null;
  readonly doc: string;
  readonly validator?: Validator;
  readonly sensitive?: boolean;
  readonly readOnly?: boolean;
  /** not listed by DescribeConfigs (Kafka's defineInternal), but accepted and honoured */
  readonly internal?: boolean;
}

/** An invalid config name or value. The message always names the key. */
export class ConfigValueError extends Error {
  override name = 'ConfigValueError';
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
  }
}

const INT_RANGE: Partial<Record<ConfigTypeName, [bigint, bigint, string]>> = {
  SHORT: [-(2n ** 15n), 2n ** 15n - 1n, '16-bit integer'],
  INT: [-(2n ** 31n), 2n ** 31n - 1n, '32-bit integer'],
  LONG: [-(2n ** 63n), 2n ** 63n - 1n, '64-bit integer'],
};

export const LONG_MAX = '9223372036854775807';

function invalid(def: ConfigKeyDef, raw: unknown, reason: string): ConfigValueError {
  return new ConfigValueError(def.name, `Invalid value ${String(raw)} for configuration ${def.name}: ${reason}`);
}

/**
 * Parses a value given by a user (CreateTopics, AlterConfigs, the YAML file) into the normalized string form
 * stored in metadata, checking the type and the validator. Throws ConfigValueError naming the key.
 */
export function parseConfigValue(def: ConfigKeyDef, raw: string | number | boolean | bigint): string {
  const text = String(raw).trim();
  let value: string;
  switch (def.type) {
    case 'BOOLEAN': {
      const lower = text.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw invalid(def, raw, 'Expected value to be either true or false');
      value = lower;
      break;
    }
    case 'SHORT':
    case 'INT':
    case 'LONG': {
      const [min, max, what] = INT_RANGE[def.type]!;
      if (!/^[+-]?\d+$/.test(text)) throw invalid(def, raw, `Expected value to be a ${what}`);
      const n = BigInt(text);
      if (n < min || n > max) throw invalid(def, raw, `Expected value to be a ${what}`);
      value = n.toString();
      break;
    }
    case 'DOUBLE': {
      const n = text === '' ? NaN : Number(text);
      if (!Number.isFinite(n)) throw invalid(def, raw, 'Expected value to be a number');
      value = String(n);
      break;
    }
    case 'LIST':
      value = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .join(',');
      break;
    case 'STRING':
    case 'CLASS':
    case 'PASSWORD':
      value = text;
      break;
  }
  const reason = def.validator?.check(value);
  if (reason) throw invalid(def, def.sensitive ? '[hidden]' : raw, reason);
  return value;
}

// ---- validators (Kafka's ConfigDef.Range / ValidString / ValidList, in our words) ----

function numeric(v: string): bigint | number {
  return /^[+-]?\d+$/.test(v) ? BigInt(v) : Number(v);
}

export function atLeast(min: number | bigint): Validator {
  return {
    describe: `[${min},...]`,
    check: (v) => (numeric(v) < min ? `Value must be at least ${min}` : null),
  };
}

export function between(min: number | bigint, max: number | bigint): Validator {
  return {
    describe: `[${min},...,${max}]`,
    check: (v) => {
      const n = numeric(v);
      if (n < min) return `Value must be at least ${min}`;
      if (n > max) return `Value must be no more than ${max}`;
      return null;
    },
  };
}

export function oneOf(...values: string[]): Validator {
  return {
    describe: `[${values.join(', ')}]`,
    check: (v) => (values.includes(v) ? null : `String must be one of: ${values.join(', ')}`),
  };
}

/** Every element of a LIST must be one of `values`; `allowEmpty` false rejects an empty list. */
export function listOf(values: string[], allowEmpty = false): Validator {
  return {
    describe: `[${values.join(', ')}]`,
    check: (v) => {
      const items = v === '' ? [] : v.split(',');
      if (items.length === 0 && !allowEmpty) return `List must contain at least one of: ${values.join(', ')}`;
      const bad = items.find((i) => !values.includes(i));
      if (bad !== undefined) return `Invalid value ${bad}; each element must be one of: ${values.join(', ')}`;
      if (new Set(items).size !== items.length) return 'List must not contain duplicates';
      return null;
    },
  };
}

export function either(a: Validator, b: Validator, describe = `${a.describe} or ${b.describe}`): Validator {
  return {
    describe,
    check: (v) => (a.check(v) === null || b.check(v) === null ? null : `Value must be ${describe}`),
  };
}

/** A LONG or INT string as a JS number; Long.MAX_VALUE-like "never" values are clamped to the largest safe integer. */
export function toSafeNumber(value: string): number {
  const n = Number(value);
  if (n > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (n < Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  return n;
}
