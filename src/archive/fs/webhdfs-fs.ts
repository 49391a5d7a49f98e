/**
 * The archive on HDFS through the WebHDFS REST API (`/webhdfs/v1/<path>?op=…`) that every Hadoop distribution
 * ships, with plain HTTP (fetch). What it honours:
 *
 * - CREATE is two steps: a PUT without body to the namenode, answered 307 with a datanode `Location` (or, with
 *   `noredirect=true`, 200 and `{"Location": …}`), then the PUT of the data to that location, answered 201.
 *   In HttpFS mode there is one gateway: the PUT carries the data, `data=true` and
 *   `Content-Type: application/octet-stream`.
 * - RENAME answers `{"boolean": false}` instead of an error when it did not happen (the target exists, the
 *   source is missing): that is an error here (CROUPIER_ERR_ARCHIVE_RENAME).
 * - Errors come as `{"RemoteException": {exception, javaClassName, message}}`; they become
 *   CROUPIER_ERR_ARCHIVE_HDFS with that text, so the log and the metrics carry it.
 * - Files are created with permission 644, directories 755.
 * - Authentication: `user.name` (pseudo), or a delegation token (`delegation=`).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CroupierError } from '../../errors/index.ts';
import type { ArchiveFileSystem, FileStatus } from './archive-fs.ts';

export interface WebHdfsOptions {
  /** `http://namenode:9870` or `https://…` (from webhdfs:// or swebhdfs://). */
  baseUrl: string;
  /** Absolute HDFS path of the archive's root. */
  root: string;
  user?: string;
  delegationToken?: string;
  httpfs?: boolean;
  requestTimeoutMs: number;
  /** Local directory where files are built and read copies are kept. */
  stagingDir: string;
}

interface HdfsFileStatus {
  pathSuffix: string;
  type: 'FILE' | 'DIRECTORY' | 'SYMLINK';
  length: number;
}

/** Encodes each segment of an HDFS path for a URL (`+` and `=` escaped, `/` kept). */
const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function createWebHdfsFileSystem(options: WebHdfsOptions): ArchiveFileSystem {
  const base = options.baseUrl.replace(/\/$/, '');
  const root = `/${options.root.replace(/^\/+|\/+$/g, '')}`.replace(/^\/$/, '');
  const hdfsPath = (p: string) => `${root}/${p}`.replace(/\/+$/, '') || '/';
  const location = `${base.replace(/^http/, 'webhdfs')}${root || '/'}`;

  function url(p: string, op: string, params: Record<string, string> = {}): string {
    const q = new URLSearchParams({ op, ...params });
    if (options.delegationToken) q.set('delegation', options.delegationToken);
    else if (options.user) q.set('user.name', options.user);
    return `${base}/webhdfs/v1${encodePath(hdfsPath(p))}?${q.toString()}`;
  }

  async function request(
    method: string,
    target: string,
    what: string,
    init: { body?: Buffer; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    try {
      return await fetch(target, {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.requestTimeoutMs),
        ...(init.body ? { body: init.body } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
      });
    } catch (error) {
      throw new CroupierError(
        'CROUPIER_ERR_ARCHIVE_HDFS_UNAVAILABLE',
        `WebHDFS did not answer to ${what} (${(error as Error).cause ?? (error as Error).message}); check archive.uri (${location})`,
        { what },
        { cause: error },
      );
    }
  }

  /** A CroupierError with the RemoteException of a failed response. */
  async function failure(response: Response, what: string): Promise<CroupierError> {
    const text = await response.text().catch(() => '');
    let remote: { exception?: string; javaClassName?: string; message?: string } = {};
    try {
      remote = (JSON.parse(text) as { RemoteException?: typeof remote }).RemoteException ?? {};
    } catch {
      // not JSON: a proxy or a datanode that died mid-answer
    }
    const exception = remote.exception ?? `HTTP ${response.status}`;
    return new CroupierError(
      'CROUPIER_ERR_ARCHIVE_HDFS',
      `WebHDFS refused to ${what}: ${exception}: ${remote.message ?? (text.slice(0, 200) || response.statusText)}`,
      { status: response.status, exception, javaClassName: remote.javaClassName, what },
    );
  }

  async function json<T>(response: Response, what: string): Promise<T> {
    if (!response.ok) throw await failure(response, what);
    return (await response.json()) as T;
  }

  async function booleanOp(method: string, target: string, what: string): Promise<boolean> {
    return (await json<{ boolean: boolean }>(await request(method, target, what), what)).boolean;
  }

  /** The datanode location of a two-step operation (307, or 200 with JSON under noredirect). */
  async function redirectOf(response: Response, what: string): Promise<string> {
    if (response.status === 307 || response.status === 302 || response.status === 303) {
      const next = response.headers.get('location');
      await response.body?.cancel();
      if (next) return next;
    } else if (response.ok) {
      const body = (await response.json().catch(() => ({}))) as { Location?: string };
      if (body.Location) return body.Location;
    } else {
      throw await failure(response, what);
    }
    throw new CroupierError('CROUPIER_ERR_ARCHIVE_HDFS', `WebHDFS gave no datanode location to ${what}`, {
      status: response.status,
      what,
    });
  }

  async function put(p: string, data: Buffer, what: string, overwrite = true): Promise<void> {
    const params = { overwrite: String(overwrite), permission: '644' };
    let response: Response;
    if (options.httpfs) {
      response = await request('PUT', url(p, 'CREATE', { ...params, data: 'true' }), what, {
        body: data,
        headers: { 'content-type': 'application/octet-stream' },
      });
    } else {
      const datanode = await redirectOf(await request('PUT', url(p, 'CREATE', params), what), what);
      response = await request('PUT', datanode, what, {
        body: data,
        headers: { 'content-type': 'application/octet-stream' },
      });
    }
    if (response.status !== 201 && !response.ok) throw await failure(response, what);
    await response.body?.cancel();
  }

  async function status(p: string): Promise<HdfsFileStatus | null> {
    const what = `get the status of ${hdfsPath(p)}`;
    const response = await request('GET', url(p, 'GETFILESTATUS'), what);
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    return (await json<{ FileStatus: HdfsFileStatus }>(response, what)).FileStatus;
  }

  return {
    location,
    stagingDir: options.stagingDir,
    async list(dir) {
      const what = `list ${hdfsPath(dir)}`;
      const response = await request('GET', url(dir, 'LISTSTATUS'), what);
      if (response.status === 404) {
        await response.body?.cancel();
        return [];
      }
      const body = await json<{ FileStatuses: { FileStatus: HdfsFileStatus[] } }>(response, what);
      return body.FileStatuses.FileStatus.filter((s) => s.type !== 'SYMLINK').map(
        (s): FileStatus => ({
          name: s.pathSuffix,
          type: s.type === 'DIRECTORY' ? 'dir' : 'file',
          bytes: s.type === 'DIRECTORY' ? 0 : s.length,
        }),
      );
    },
    async stat(p) {
      const s = await status(p);
      if (!s) return null;
      return { name: path.posix.basename(p), type: s.type === 'DIRECTORY' ? 'dir' : 'file', bytes: s.length };
    },
    async mkdirs(dir) {
      const what = `create directory ${hdfsPath(dir)}`;
      if (!(await booleanOp('PUT', url(dir, 'MKDIRS', { permission: '755' }), what))) {
        throw new CroupierError('CROUPIER_ERR_ARCHIVE_HDFS', `WebHDFS did not ${what} (MKDIRS false)`, {
          what,
        });
      }
    },
    async upload(localPath, p) {
      await put(p, await readFile(localPath), `create ${hdfsPath(p)}`);
    },
    async writeText(p, text) {
      await put(p, Buffer.from(text), `write ${hdfsPath(p)}`);
    },
    async createText(p, text) {
      try {
        await put(p, Buffer.from(text), `create ${hdfsPath(p)}`, false);
        return true;
      } catch (error) {
        const exception = (error as CroupierError).details as { exception?: string } | undefined;
        if (exception?.exception === 'FileAlreadyExistsException') return false;
        throw error;
      }
    },
    async readText(p) {
      const what = `open ${hdfsPath(p)}`;
      const first = await request('GET', url(p, 'OPEN'), what);
      if (first.status === 404) {
        await first.body?.cancel();
        return null;
      }
      const response = first.ok ? first : await request('GET', await redirectOf(first, what), what);
      if (response.status === 404) {
        await response.body?.cancel();
        return null;
      }
      if (!response.ok) throw await failure(response, what);
      return response.text();
    },
    async rename(from, to) {
      const what = `rename ${hdfsPath(from)} to ${hdfsPath(to)}`;
      if (await booleanOp('PUT', url(from, 'RENAME', { destination: hdfsPath(to) }), what)) return;
      const target = await status(to);
      throw new CroupierError(
        'CROUPIER_ERR_ARCHIVE_RENAME',
        `WebHDFS did not ${what} (RENAME answered false${target ? ': the target exists' : ''})`,
        { from, to, exists: target !== null },
      );
    },
    async remove(p) {
      return booleanOp('DELETE', url(p, 'DELETE', { recursive: 'true' }), `remove ${hdfsPath(p)}`);
    },
    async localCopy(p) {
      const what = `open ${hdfsPath(p)}`;
      const first = await request('GET', url(p, 'OPEN'), what);
      const response = first.ok ? first : await request('GET', await redirectOf(first, what), what);
      if (!response.ok) throw await failure(response, what);
      await mkdir(options.stagingDir, { recursive: true });
      const localPath = path.join(options.stagingDir, `read-${randomUUID()}-${path.posix.basename(p)}`);
      await writeFile(localPath, Buffer.from(await response.arrayBuffer()));
      return { localPath, copied: true };
    },
  };
}
