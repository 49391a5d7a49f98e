/**
 * Replacing a partition's marker as a compare-and-swap. A marker is replaced by the commit of whoever positioned
 * the partition from it; two archive consumers that positioned themselves from one marker (two further clusters'
 * archives taking over a stopped one's partition at once, or two consumers of one group across a rebalance) must
 * not both replace it. Reading the marker and then writing it leaves a window between the two; so, before it writes,
 * a commit claims the marker it replaces by creating a claim file exclusively (a link locally, `CREATE` with
 * `overwrite=false` on WebHDFS, as the first marker is created):
 *
 *   <root>/+offsets/<topic>/<p>.claims/<SHA-256 of the marker replaced, 32 hex>.<n>.json   {token, holder, cluster}
 *
 * Of two commits replacing one marker, one creates the claim and the other finds it and is fenced. The claimant
 * then reads the marker again (it must still be the one it claimed), writes its own, and removes the claims of the
 * marker it replaced: a commit that claims that marker later finds the marker changed and is fenced. A claim left by
 * a consumer that stopped between its claim and its write (its lease no longer renewed, cluster-lease.ts) is passed
 * over by taking the next number `n`, which again only one creates; so is a claim that cannot be read (empty, or torn
 * by a crash in the middle of a WebHDFS `CREATE`) once this consumer has seen it so for longer than a lease.
 */
import { createHash } from 'node:crypto';
import { CroupierError } from '../errors/index.ts';
import type { ArchiveFileSystem } from './fs/archive-fs.ts';

/** What a claim file holds. */
export interface MarkerClaim {
  /** The commit's own token (an attempt that lost its answer finds its claim by it). */
  token: string;
  /** The archive consumer's lease holder, and its cluster (cluster-lease.ts). */
  holder: string;
  cluster: string | null;
}

/** The archive consumer a commit claims for. */
export interface MarkerClaimant {
  readonly holder: string;
  /** Whether the consumer that made `claim` still runs (its lease is renewed); false for this consumer's own. */
  holds(claim: MarkerClaim): Promise<boolean>;
  /**
   * Whether the claim file at `path`, which cannot be read (empty, or torn by a crash while it was written), still
   * holds: it may be one being written, so it does until this consumer has seen it unreadable for longer than a lease.
   */
  holdsUnreadable(path: string): boolean;
}

/** The claims directory of the marker at `markerPath` (`+offsets/<topic>/<p>.json`). */
export const claimDirOf = (markerPath: string): string => `${markerPath.replace(/\.json$/, '')}.claims`;

/** The name prefix of the claims of a marker's text. */
const claimPrefixOf = (markerText: string): string =>
  `${createHash('sha256').update(markerText).digest('hex').slice(0, 32)}.`;

function parseClaim(text: string | null): MarkerClaim | null {
  if (text === null) return null;
  try {
    const c = JSON.parse(text) as Partial<MarkerClaim> | null;
    if (typeof c?.token !== 'string' || typeof c.holder !== 'string') return null;
    return { token: c.token, holder: c.holder, cluster: typeof c.cluster === 'string' ? c.cluster : null };
  } catch {
    return null;
  }
}

export interface MarkerReplacement {
  fs: ArchiveFileSystem;
  markerPath: string;
  /** The marker's text this commit positioned from (or last wrote). */
  expected: string;
  /** The marker's text to write. */
  next: string;
  claim: MarkerClaim;
  claimant: MarkerClaimant;
  /** Names the partition in errors. */
  partition: { topic: string; partition: number };
}

/**
 * Replaces the marker `expected` with `next` only when no other commit replaced or claimed it: throws
 * CROUPIER_ERR_ARCHIVE_FENCED otherwise. Safe to run again with the same claim after a failed attempt.
 */
export async function replaceMarker(r: MarkerReplacement): Promise<void> {
  const { fs, markerPath, expected, next, claim } = r;
  const { topic, partition } = r.partition;
  const dir = claimDirOf(markerPath);
  const prefix = claimPrefixOf(expected);
  const fenced = (why: string) =>
    new CroupierError(
      'CROUPIER_ERR_ARCHIVE_FENCED',
      `the marker of ${topic}+${partition} ${why}: another archive consumer wrote to the partition`,
      { topic, partition },
    );
  const claimsOf = async () =>
    (await fs.list(dir))
      .filter((e) => e.type === 'file' && e.name.startsWith(prefix) && e.name.endsWith('.json'))
      .map((e) => ({ path: `${dir}/${e.name}`, n: Number(e.name.slice(prefix.length, -'.json'.length)) }))
      .filter((c) => Number.isSafeInteger(c.n) && c.n > 0);

  let own: string | null = null;
  for (let attempt = 0; own === null; attempt++) {
    let top = 0;
    for (const c of await claimsOf()) {
      top = Math.max(top, c.n);
      const found = parseClaim(await fs.readText(c.path));
      if (found?.token === claim.token) own = c.path;
      // A claim that cannot be read may be one still being written: held, until it has stayed so for a lease.
      else if (found === null ? r.claimant.holdsUnreadable(c.path) : await r.claimant.holds(found))
        throw fenced('is claimed');
    }
    if (own !== null) break;
    const path = `${dir}/${prefix}${top + 1}.json`;
    if (await fs.createText(path, `${JSON.stringify(claim)}\n`)) own = path;
    else if (attempt >= 3) throw fenced('is claimed again and again');
  }
  const found = await fs.readText(markerPath);
  if (found !== next) {
    if (found !== expected) {
      await fs.remove(own).catch(() => false);
      throw fenced('changed since this archive positioned itself');
    }
    await fs.writeText(markerPath, next);
  }
  // A later claim of the marker replaced finds the marker changed: its claims are no longer needed, nor those of any
  // earlier marker (left by a consumer that stopped between its write and this removal), which would otherwise stay
  // for good. Only claims of the marker now written may be a live consumer's.
  const nextPrefix = claimPrefixOf(next);
  for (const e of await fs.list(dir))
    if (e.type === 'file' && !e.name.startsWith(nextPrefix))
      await fs.remove(`${dir}/${e.name}`).catch(() => false);
}
