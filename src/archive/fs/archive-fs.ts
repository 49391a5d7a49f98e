/**
 * The file system an archive lives on, as the archive uses it: paths are relative to the archive's root and
 * separated by `/`. Two adapters implement it: a local directory (local-fs.ts) and WebHDFS (webhdfs-fs.ts).
 * Each call is one attempt: the callers retry (commit.ts) or report (ls, verify).
 */

export interface FileStatus {
  name: string;
  type: 'file' | 'dir';
  /** Size of a file; -1 when the listing did not ask for it. */
  bytes: number;
}

export interface ArchiveFileSystem {
  /** Where the archive is, for logs and messages (no credentials). */
  readonly location: string;
  /** A local directory where files are built before `upload` (inside the root for a local archive). */
  readonly stagingDir: string;
  /** The entries of a directory; [] when it does not exist. File sizes are -1 unless `withSizes`. */
  list(dir: string, withSizes?: boolean): Promise<FileStatus[]>;
  /** The status of a path, or null when there is nothing there. */
  stat(path: string): Promise<FileStatus | null>;
  /** Creates a directory and its parents (permission 755); no error when it exists. */
  mkdirs(dir: string): Promise<void>;
  /** Puts a local file (built in `stagingDir`) at `path`, replacing what is there; durable when it returns. */
  upload(localPath: string, path: string): Promise<void>;
  /** Writes a small file whole (the partition markers), replacing what is there. */
  writeText(path: string, text: string): Promise<void>;
  /**
   * Writes a small file whole only when nothing is at `path` (a partition's first marker, which two archive
   * consumers must not both write); false when something is there. Durable when it returns true.
   */
  createText(path: string, text: string): Promise<boolean>;
  /** A small file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /**
   * Moves `from` to `to`, never over an existing `to`; throws CROUPIER_ERR_ARCHIVE_RENAME when it did not
   * happen. Durable when it returns.
   */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file, or a directory with everything in it; false when there was nothing. */
  remove(path: string): Promise<boolean>;
  /** A local path to read `path` from: the file itself, or a copy made in `stagingDir` (then `copied`). */
  localCopy(path: string): Promise<{ localPath: string; copied: boolean }>;
}

/** Joins relative archive paths. */
export const joinPath = (...parts: string[]): string => parts.filter((p) => p !== '').join('/');
