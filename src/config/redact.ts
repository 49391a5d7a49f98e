import { type Config, SECRET_PATHS } from './schema.ts';

const REDACTED = '[redacted]';

/**
 * Hides the password part of a URL such as redis://user:secret@host:6379. The user info ends at the last `@`
 * before the path, so a password that holds `@` is hidden whole.
 */
function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^/\s]*@/i, `$1${REDACTED}@`);
}

function redactTree(node: unknown, path: string, secrets: ReadonlySet<string>): unknown {
  if (Array.isArray(node)) return node.map((v) => redactTree(v, path, secrets));
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      const childPath = path ? `${path}.${key}` : key;
      out[key] =
        secrets.has(childPath) && value !== undefined ? REDACTED : redactTree(value, childPath, secrets);
    }
    return out;
  }
  return typeof node === 'string' ? redactUrl(node) : node;
}

/** A copy of the config safe to print or log: secrets and URL passwords replaced. */
export function redactConfig(config: Readonly<Config>): unknown {
  return redactTree(config, '', new Set<string>(SECRET_PATHS));
}
