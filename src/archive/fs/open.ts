/** The archive's file system from `archive.uri`: a local directory, or WebHDFS / HttpFS. */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../config/index.ts';
import { CroupierError } from '../../errors/index.ts';
import type { ArchiveFileSystem } from './archive-fs.ts';
import { createLocalFileSystem } from './local-fs.ts';
import { createWebHdfsFileSystem } from './webhdfs-fs.ts';

export type ArchiveLocation =
  | { kind: 'local'; root: string }
  | { kind: 'webhdfs'; baseUrl: string; root: string };

/** Where `archive.uri` points: `./dir`, `/abs/dir`, `file:///abs/dir`, `webhdfs://host[:9870]/path`, `swebhdfs://…`. */
export function parseArchiveUri(uri: string, cwd = process.cwd()): ArchiveLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return { kind: 'local', root: path.resolve(cwd, uri) };
  if (scheme === 'file') return { kind: 'local', root: fileURLToPath(uri) };
  if (scheme === 'webhdfs' || scheme === 'swebhdfs') {
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_ARCHIVE_URI',
        `archive.uri ${uri} is not a valid URL`,
        { uri },
        { cause: error },
      );
    }
    if (!parsed.hostname) {
      throw new CroupierError('CROUPIER_ERR_ARCHIVE_URI', `archive.uri ${uri} names no namenode host`, {
        uri,
      });
    }
    const tls = scheme === 'swebhdfs';
    const port = parsed.port || (tls ? '9871' : '9870');
    return {
      kind: 'webhdfs',
      baseUrl: `${tls ? 'https' : 'http'}://${parsed.hostname}:${port}`,
      root: decodeURIComponent(parsed.pathname) || '/',
    };
  }
  throw new CroupierError(
    'CROUPIER_ERR_ARCHIVE_URI',
    `archive.uri ${uri}: the scheme ${scheme}:// is not supported (a path, file://, webhdfs:// or swebhdfs://)`,
    { uri },
  );
}

export function openArchiveFileSystem(settings: Config['archive']): ArchiveFileSystem {
  const location = parseArchiveUri(settings.uri);
  if (location.kind === 'local') return createLocalFileSystem(location.root);
  return createWebHdfsFileSystem({
    baseUrl: location.baseUrl,
    root: location.root,
    user: settings.hdfsUser,
    delegationToken: settings.hdfsDelegationToken,
    httpfs: settings.httpfs,
    requestTimeoutMs: settings.requestTimeoutMs,
    stagingDir: settings.stagingDir || path.join(os.tmpdir(), `croupier-archive-${process.pid}`),
  });
}
