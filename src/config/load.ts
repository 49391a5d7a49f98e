/**
 * Builds the effective configuration from, in increasing precedence: embedded defaults, an optional JSON
 * file, environment variables, and `--set key=value` overrides. Validated once; the result is deep-frozen.
 */
import type { ZodIssue } from 'zod';
import { CroupierError } from '../errors/index.ts';
import { type EnvBinding, type EnvKind, envBindings } from './env.ts';
import { readJsonFileSync } from './read-json-file.ts';
import { type Config, configSchema } from './schema.ts';

/** Every environment variable croupier reads, with the key it sets. */
export const ENV_BINDINGS: readonly EnvBinding[] = envBindings(configSchema);

export interface LoadConfigOptions {
  /** Path of a JSON config file. */
  file?: string;
  /** Environment to read (defaults to process.env). */
  env?: Record<string, string | undefined>;
  /** `key.path=value` overrides, e.g. from repeated `--set` flags. */
  overrides?: readonly string[];
}

type Tree = Record<string, unknown>;

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i];
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next))
      node[key] = {};
    node = node[key] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

function coerce(raw: string, kind: EnvKind, where: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'list':
      return raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);
    case 'number-list':
      return (coerce(raw, 'list', where) as string[]).map((item) => coerce(item, 'number', where));
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) {
        throw new CroupierError('CROUPIER_ERR_CONFIG_INVALID', `${where}: expected a number, got "${raw}"`, {
          where,
        });
      }
      return n;
    }
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new CroupierError(
        'CROUPIER_ERR_CONFIG_INVALID',
        `${where}: expected true or false, got "${raw}"`,
        { where },
      );
    }
  }
}

/** A `--set` value: JSON when it parses (numbers, booleans, arrays, objects), otherwise the raw string. */
const LIST_KEYS = new Map(
  ENV_BINDINGS.filter((b) => b.kind === 'list' || b.kind === 'number-list').map((b) => [b.path, b.kind]),
);

/**
 * A `--set` value: JSON where it parses, else the text; a list key also takes the comma-separated form its
 * environment variable takes (`--set kafka.brokers=host1:9092,host2:9092`).
 */
function parseOverrideValue(key: string, raw: string): unknown {
  const list = LIST_KEYS.get(key);
  if (list !== undefined && !raw.trim().startsWith('[')) return coerce(raw, list, `--set ${key}`);
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function readConfigFile(file: string): Tree {
  const parsed = readJsonFileSync(file, { code: 'CROUPIER_ERR_CONFIG_FILE', what: 'config file' });
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new CroupierError(
      'CROUPIER_ERR_CONFIG_FILE',
      `config file ${file} is not valid: the top level must be a JSON object`,
      { file },
    );
  }
  return parsed as Tree;
}

function describeIssue(issue: ZodIssue): string {
  const key = issue.path.join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    return `${key === '(root)' ? '' : `${key}: `}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  }
  return `${key}: ${issue.message}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value as object)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Validates a raw configuration tree; throws CROUPIER_ERR_CONFIG_INVALID naming every bad key. */
export function parseConfig(raw: unknown): Readonly<Config> {
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map(describeIssue);
    throw new CroupierError(
      'CROUPIER_ERR_CONFIG_INVALID',
      `invalid configuration:\n  ${lines.join('\n  ')}`,
      {
        issues: lines,
      },
    );
  }
  return deepFreeze(result.data);
}

export function loadConfig(options: LoadConfigOptions = {}): Readonly<Config> {
  const env = options.env ?? process.env;
  const tree: Tree = options.file ? readConfigFile(options.file) : {};
  for (const binding of ENV_BINDINGS) {
    const raw = env[binding.env];
    if (raw === undefined || raw === '') continue;
    setPath(tree, binding.path, coerce(raw, binding.kind, `${binding.env} (${binding.path})`));
  }
  for (const assignment of options.overrides ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) {
      throw new CroupierError(
        'CROUPIER_ERR_CONFIG_INVALID',
        `--set "${assignment}": expected key.path=value, e.g. --set gateway.port=8081`,
        { assignment },
      );
    }
    const key = assignment.slice(0, eq).trim();
    setPath(tree, key, parseOverrideValue(key, assignment.slice(eq + 1)));
  }
  return parseConfig(tree);
}
