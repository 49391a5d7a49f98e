/**
 * Writing the model registry: a trained version is added with its files (ONNX, lineage, reliability diagram)
 * and never changed afterwards; promotion and rollback flip `active` in `manifest.json`, replaced atomically
 * (written aside, then renamed) so a gateway watching the registry reloads a whole manifest. Every flip is
 * recorded in `history.json` with its reason and the gate's evidence. A promotion may keep a share of users on
 * the model it replaces (`holdback` in the manifest) as the watch's concurrent control, until the watch
 * concludes or the registry flips again. Every change of the manifest or the history holds the registry's lock
 * file, so flips from several processes at once (a promotion, a rollback, a training run, the watch) never lose
 * one another's writes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CroupierError } from '../errors/index.ts';
import {
  type Holdback,
  MANIFEST_FILE,
  type Manifest,
  type ModelEntry,
  manifestSchema,
  readManifest,
} from '../scoring/model-registry.ts';
import type { GateDecision } from './gate.ts';
import { type Lineage, lineageFileOf, lineageSchema, reliabilityFileOf } from './lineage.ts';
import { checkServable } from './servable.ts';
import type { WatchLook } from './watch.ts';

export const HISTORY_FILE = 'history.json';

export interface HistoryEvent {
  at: string;
  /** `watch`: the post-promotion watch kept the promotion of `to` over `from` (a rollback is a `rollback`). */
  action: 'promote' | 'rollback' | 'watch';
  from: string;
  to: string;
  reason: string;
  gate?: GateDecision;
  /** The watch's look that decided (a rollback by the watch, or a kept promotion). */
  watch?: WatchLook;
  /** A promotion's concurrent control: the share of users the promotion left on `from` while it is watched. */
  holdback?: Holdback;
}

/**
 * Replaces files of the registry: each new text is written aside first, then all are renamed into place. A write
 * that fails (a full disk) fails before any file changed, so a flip never moves the manifest without its history
 * event; the renames need no space.
 */
async function replaceFiles(
  dir: string,
  files: readonly (readonly [file: string, text: string])[],
): Promise<void> {
  const staged: [tmp: string, file: string][] = [];
  try {
    for (const [file, text] of files) {
      const tmp = join(dir, `.${file}.${randomUUID()}.tmp`);
      staged.push([tmp, file]);
      await writeFile(tmp, text);
    }
    for (const [tmp, file] of staged) await rename(tmp, join(dir, file));
  } catch (error) {
    await Promise.all(staged.map(([tmp]) => rm(tmp, { force: true })));
    throw error;
  }
}

/**
 * The registry's lock: a directory holding one file named by its holder's token (pid and time inside). It is
 * made aside and renamed into place, which fails while another lock is there (a lock is never empty), and it is
 * taken away by removing the holder's file by its token, which fails once that lock is gone: of several
 * processes that judged one lock stale, only the first removes it, and none can remove the lock taken after it.
 */
export const LOCK_FILE = '.registry.lock';
/** A lock older than this is taken over even when its holder still runs (a flip holds it for milliseconds). */
const LOCK_STALE_MS = 60_000;
/** How long a flip waits for the lock before it gives up. */
const LOCK_WAIT_MS = 30_000;

function holderIsGone(text: string): boolean {
  const [pid, at] = text.split(' ').map(Number);
  if (!(Date.now() - at < LOCK_STALE_MS)) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const ignoreFsError = () => undefined;

/**
 * Takes the lock at `path` away when its holder is gone; returns what holds it otherwise (null: nothing now).
 * A plain file there is a lock of an earlier croupier (written in place, pid and time): removed as a file, so the
 * removal cannot take a lock directory made since.
 */
async function removeIfStale(path: string): Promise<string | null> {
  let tokens: string[];
  try {
    tokens = await readdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code !== 'ENOTDIR') throw error;
    const holder = await readFile(path, 'utf8').catch(() => null);
    const emptyAndOld =
      holder === '' && Date.now() - ((await stat(path).catch(() => null))?.mtimeMs ?? Date.now()) > 5000;
    if (holder === null || emptyAndOld || (holder !== '' && holderIsGone(holder))) {
      await unlink(path).catch(ignoreFsError);
      return null;
    }
    return holder;
  }
  // Empty: its holder removed its file and not yet the directory (or died between the two).
  if (tokens.length === 0) {
    await rmdir(path).catch(ignoreFsError);
    return null;
  }
  const holder = await readFile(join(path, tokens[0]), 'utf8').catch(() => null);
  if (holder === null || !holderIsGone(holder)) return holder;
  if (await unlink(join(path, tokens[0])).then(() => true, ignoreFsError))
    await rmdir(path).catch(ignoreFsError);
  return null;
}

/**
 * Removes the staging directories of waiters whose process is gone (killed while they waited for the lock). A
 * waiter writes its pid and the time into its own before every attempt, so a live waiter's is never stale.
 */
async function removeAbandonedStaging(dir: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(`${LOCK_FILE}.`) || !name.endsWith('.new')) continue;
    const staging = join(dir, name);
    const [token] = await readdir(staging).catch(() => [] as string[]);
    const file = token === undefined ? staging : join(staging, token);
    const holder = token === undefined ? '' : await readFile(file, 'utf8').catch(() => null);
    // Empty: killed between making it and writing its pid (or read while a live waiter rewrites it, which
    // leaves it new): abandoned once it has not changed for 5 s.
    const abandoned =
      holder === ''
        ? Date.now() - ((await stat(file).catch(() => null))?.mtimeMs ?? Date.now()) > 5000
        : holder !== null && holderIsGone(holder);
    if (abandoned) await rm(staging, { recursive: true, force: true });
  }
}

/**
 * Runs `change` (a read and write of the manifest and the history) holding the registry's lock. A lock whose
 * process is gone (on this host) or that is older than LOCK_STALE_MS is taken over.
 */
export async function withRegistryLock<T>(dir: string, change: () => Promise<T>): Promise<T> {
  const path = join(dir, LOCK_FILE);
  const token = randomUUID();
  const staging = join(dir, `${LOCK_FILE}.${token}.new`);
  await mkdir(staging).catch((error: NodeJS.ErrnoException) => {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
      `model registry ${dir} cannot be written (${error.code ?? error.message}): give this user write access to it, or set model.registryDir to a directory it can write`,
      { registryDir: dir },
      { cause: error },
    );
  });
  const deadline = Date.now() + LOCK_WAIT_MS;
  try {
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      // Made again if another flip took it for a dead waiter's and removed it.
      await mkdir(staging).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      });
      await writeFile(join(staging, token), `${process.pid} ${Date.now()}`);
      try {
        await rename(staging, path);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOTDIR' && code !== 'EISDIR') throw error;
      }
      const holder = await removeIfStale(path);
      if (holder === null) continue;
      if (Date.now() > deadline) {
        throw new CroupierError(
          'CROUPIER_ERR_MODEL_PROMOTION',
          `model registry ${dir} is locked (${path}: ${holder}) for more than ${LOCK_WAIT_MS / 1000} s: another promotion, rollback or training run is writing it; remove it if no croupier command runs`,
          { registryDir: dir },
        );
      }
      await new Promise((r) => setTimeout(r, wait + Math.random() * wait));
    }
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  try {
    await removeAbandonedStaging(dir);
    return await change();
  } finally {
    // Only this lock's own file: a lock taken over after LOCK_STALE_MS is someone else's by now.
    if (await unlink(join(path, token)).then(() => true, ignoreFsError))
      await rmdir(path).catch(ignoreFsError);
  }
}

/** The manifest's file text, checked against its schema. */
function manifestFile(manifest: Manifest): readonly [string, string] {
  return [MANIFEST_FILE, `${JSON.stringify(manifestSchema.parse(manifest), null, 2)}\n`];
}

export async function readHistory(dir: string): Promise<HistoryEvent[]> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, HISTORY_FILE), 'utf8')) as { events?: HistoryEvent[] };
    return Array.isArray(parsed.events) ? parsed.events : [];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
      `model registry ${dir}: ${HISTORY_FILE} is not valid JSON (${(error as Error).message}); fix or remove it`,
      { registryDir: dir },
    );
  }
}

/** The history's file text with `event` appended; history events are written before the manifest's rename. */
async function historyFileWith(dir: string, event: HistoryEvent): Promise<readonly [string, string]> {
  const events = await readHistory(dir);
  return [HISTORY_FILE, `${JSON.stringify({ events: [...events, event] }, null, 2)}\n`];
}

export interface NewVersion {
  entry: ModelEntry;
  onnx: Uint8Array;
  lineage: Lineage;
  reliabilitySvg: string;
}

/** Adds a version (not active); refuses a version or a file that already exists. */
export async function addModelVersion(dir: string, version: NewVersion): Promise<void> {
  const manifest = await readManifest(dir);
  const name = version.entry.version;
  if (manifest.models.some((m) => m.version === name)) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
      `model registry ${dir} already has version ${name}: versions are immutable, train a new one`,
      { version: name },
    );
  }
  const written: string[] = [];
  try {
    for (const [file, content] of [
      [version.entry.file, version.onnx],
      [lineageFileOf(name), `${JSON.stringify(version.lineage, null, 2)}\n`],
      [reliabilityFileOf(name), version.reliabilitySvg],
    ] as const) {
      await writeFile(join(dir, file), content, { flag: 'wx' });
      written.push(file);
    }
    await withRegistryLock(dir, async () => {
      const latest = await readManifest(dir);
      await replaceFiles(dir, [manifestFile({ ...latest, models: [...latest.models, version.entry] })]);
    });
  } catch (error) {
    await Promise.all(written.map((file) => rm(join(dir, file), { force: true })));
    if (error instanceof CroupierError) throw error;
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
      `cannot add version ${name} to the model registry ${dir}: ${(error as Error).message}`,
      { version: name },
      { cause: error },
    );
  }
}

/**
 * The lineage of `version`, or null when it has none; a lineage file that cannot be read, is not JSON or lacks
 * what the gate and `models show` read is refused naming the file and the field.
 */
export async function readLineage(dir: string, version: string): Promise<Lineage | null> {
  const file = join(dir, lineageFileOf(version));
  const damaged = (problem: string, cause?: unknown) =>
    new CroupierError(
      'CROUPIER_ERR_MODEL_REGISTRY_INVALID',
      `model registry ${dir}: ${lineageFileOf(version)} ${problem}; restore it from a backup or retrain ${version}`,
      { version, file },
      cause === undefined ? undefined : { cause },
    );
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw damaged(
      error instanceof SyntaxError ? `is not valid JSON (${error.message})` : `cannot be read (${error})`,
      error,
    );
  }
  const parsed = lineageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damaged(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data as unknown as Lineage;
}

function unknownVersion(dir: string, version: string, manifest: Manifest): CroupierError {
  return new CroupierError(
    'CROUPIER_ERR_MODEL_VERSION_UNKNOWN',
    `model registry ${dir} has no version ${version}; it has ${manifest.models.map((m) => m.version).join(', ')} (croupier models ls)`,
    { version },
  );
}

/** The manifest without its holdback (every user on the active model). */
function withoutHoldback(manifest: Manifest): Manifest {
  const { holdback: _, ...rest } = manifest;
  return rest;
}

/**
 * Makes `version` active and records why. With `holdbackPercent` > 0 that share of users (drawn afresh for this
 * promotion) stays on the model active until now, as the post-promotion watch's concurrent control.
 */
export function promoteVersion(
  dir: string,
  version: string,
  reason: string,
  gate?: GateDecision,
  holdbackPercent = 0,
): Promise<HistoryEvent> {
  return withRegistryLock(dir, () => promoteLocked(dir, version, reason, gate, holdbackPercent));
}

async function promoteLocked(
  dir: string,
  version: string,
  reason: string,
  gate: GateDecision | undefined,
  holdbackPercent: number,
): Promise<HistoryEvent> {
  const manifest = await readManifest(dir);
  if (!manifest.models.some((m) => m.version === version)) throw unknownVersion(dir, version, manifest);
  if (manifest.active === version) {
    throw new CroupierError('CROUPIER_ERR_MODEL_PROMOTION', `${version} is already the active model`, {
      version,
    });
  }
  await checkServable(dir, manifest, version);
  const at = new Date().toISOString();
  const holdback: Holdback | undefined =
    holdbackPercent > 0
      ? { version: manifest.active, percent: holdbackPercent, salt: `holdback:${version}:${at}` }
      : undefined;
  const event: HistoryEvent = {
    at,
    action: 'promote',
    from: manifest.active,
    to: version,
    reason,
    ...(gate ? { gate } : {}),
    ...(holdback ? { holdback } : {}),
  };
  const promoted = { ...withoutHoldback(manifest), active: version };
  await replaceFiles(dir, [
    await historyFileWith(dir, event),
    manifestFile(holdback ? { ...promoted, holdback } : promoted),
  ]);
  return event;
}

/** Makes the model active before the current one's promotion active again. */
export function rollbackActive(dir: string, reason: string, watch?: WatchLook): Promise<HistoryEvent> {
  return withRegistryLock(dir, () => rollbackLocked(dir, reason, watch));
}

async function rollbackLocked(
  dir: string,
  reason: string,
  watch: WatchLook | undefined,
): Promise<HistoryEvent> {
  const manifest = await readManifest(dir);
  const history = await readHistory(dir);
  const promotion = [...history].reverse().find((e) => e.action === 'promote' && e.to === manifest.active);
  if (promotion === undefined || !manifest.models.some((m) => m.version === promotion.from)) {
    throw new CroupierError(
      'CROUPIER_ERR_MODEL_PROMOTION',
      `nothing to roll back to: no recorded promotion made ${manifest.active} active (croupier models promote <v> picks one)`,
      { active: manifest.active },
    );
  }
  await checkServable(dir, manifest, promotion.from);
  const event: HistoryEvent = {
    at: new Date().toISOString(),
    action: 'rollback',
    from: manifest.active,
    to: promotion.from,
    reason,
    ...(watch ? { watch } : {}),
  };
  await replaceFiles(dir, [
    await historyFileWith(dir, event),
    manifestFile({ ...withoutHoldback(manifest), active: promotion.from }),
  ]);
  return event;
}

/**
 * Records that the watch kept a promotion (the active model does not change) and ends its holdback: every user is
 * served by the promoted model from now on.
 */
export function recordWatchKept(dir: string, look: WatchLook): Promise<HistoryEvent> {
  return withRegistryLock(dir, () => recordWatchKeptLocked(dir, look));
}

async function recordWatchKeptLocked(dir: string, look: WatchLook): Promise<HistoryEvent> {
  const event: HistoryEvent = {
    at: look.at,
    action: 'watch',
    from: look.promotion.from,
    to: look.promotion.to,
    reason: `kept after the watch: ${look.reason}`,
    watch: look,
  };
  const manifest = await readManifest(dir);
  const endsHoldback = manifest.holdback !== undefined && manifest.active === look.promotion.to;
  await replaceFiles(dir, [
    await historyFileWith(dir, event),
    ...(endsHoldback ? [manifestFile(withoutHoldback(manifest))] : []),
  ]);
  return event;
}

/**
 * The promotion that made the active model active, when the watch has not concluded on it yet (neither kept
 * nor rolled back since); null otherwise.
 */
export function promotionToWatch(history: readonly HistoryEvent[], active: string): HistoryEvent | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (e.to === active && e.action === 'watch') return null;
    if (e.action === 'promote' && e.to === active) return e;
    if (e.to === active) return null;
  }
  return null;
}
