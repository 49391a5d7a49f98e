/**
 * Loads the state scripts (`scripts/<command>-<numKeys>.lua`) once, with their `--- @include "<name>"` lines
 * replaced by `scripts/includes/<name>.lua`, and runs them by SHA: EVALSHA, and on NOSCRIPT (after a Redis
 * restart, a failover or SCRIPT FLUSH) SCRIPT LOAD on every master, then EVALSHA again. Works on a single
 * Redis and on Redis Cluster (ioredis routes EVALSHA by the slot of the first key).
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { CroupierError } from '../../errors/index.ts';

export type RedisClient = Redis | Cluster;

/** Bumped whenever a script changes its KEYS, ARGV or output; part of the name scripts are logged under. */
export const SCRIPTS_VERSION = 3;

export interface StateScript {
  /** `<command>:<version>`, e.g. `applyClickstream:1`. */
  readonly name: string;
  readonly numKeys: number;
  readonly source: string;
  readonly sha: string;
}

const SCRIPT_DIR = fileURLToPath(new URL('./scripts/', import.meta.url));
const INCLUDE = /^--- @include "([\w-]+)"\s*$/gm;

/** Reads `scripts/<command>-<numKeys>.lua` and resolves its includes (each included once). */
export function loadStateScript(command: string, numKeys: number, dir = SCRIPT_DIR): StateScript {
  const file = `${dir}${command}-${numKeys}.lua`;
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_STREAM_SCRIPT_SOURCE',
        `cannot read the Lua script ${path}: ${(error as Error).message}`,
        { path },
      );
    }
  };
  const seen = new Set<string>();
  const source = read(file).replace(INCLUDE, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return read(`${dir}includes/${name}.lua`);
  });
  const sha = createHash('sha1').update(source).digest('hex');
  return Object.freeze({ name: `${command}:${SCRIPTS_VERSION}`, numKeys, source, sha });
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function masters(client: RedisClient): Redis[] {
  return 'nodes' in client && typeof client.nodes === 'function' && client.isCluster
    ? client.nodes('master')
    : [client as Redis];
}

/** SCRIPT LOAD on every master (every node may own the slot a later call needs). */
export async function loadScriptOnServers(client: RedisClient, script: StateScript): Promise<void> {
  // A cluster client knows its masters once it has read the slot table.
  if (client.isCluster && client.status !== 'ready') await once(client, 'ready');
  await Promise.all(masters(client).map((node) => node.script('LOAD', script.source)));
}

export interface ScriptRunner {
  /** EVALSHA, reloading the script once on NOSCRIPT. */
  run(script: StateScript, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown>;
  /** EVALSHA calls sent so far (the benchmark's "Redis calls"). */
  calls(): number;
}

export function createScriptRunner(client: RedisClient): ScriptRunner {
  let calls = 0;
  return {
    async run(script, keys, args) {
      calls++;
      try {
        return await client.evalsha(script.sha, script.numKeys, ...keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        await loadScriptOnServers(client, script);
        calls++;
        return await client.evalsha(script.sha, script.numKeys, ...keys, ...args);
      }
    },
    calls: () => calls,
  };
}
