/**
 * Test fixture: a WebHDFS server that follows the REST API as Hadoop ships it, backed by a temporary directory
 * (so DuckDB reads what it holds). A namenode and a datanode on different loopback ports: CREATE and OPEN
 * answer 307 with the datanode's Location (or 200 and JSON with `noredirect=true`), the datanode answers the
 * data PUT with 201; RENAME answers `{"boolean": false}` when the target exists or the source is missing;
 * errors are `{"RemoteException": {exception, javaClassName, message}}`. HttpFS mode: one server, CREATE
 * carries the data (`data=true`, `Content-Type: application/octet-stream`). Requests without `user.name` or
 * `delegation` get 401.
 *
 * Fault injection: `failNext` (a status and exception on the next N requests of an op and step),
 * `renameFalseNext`, `takeNamenodeDown(ms)` (the port refuses connections, then comes back).
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Fault {
  op: string;
  step: 'namenode' | 'datanode';
  status: number;
  exception: string;
  times: number;
}

export interface WebHdfsServer {
  /** `webhdfs://127.0.0.1:<port><root>` */
  uri(root: string): string;
  /** The local directory holding the HDFS namespace. */
  dataDir: string;
  /** Permissions given by CREATE and MKDIRS, by HDFS path. */
  permissions: Map<string, string>;
  /** `op step` of every request served, in order. */
  requests: string[];
  failNext(fault: Omit<Fault, 'times'> & { times?: number }): void;
  renameFalseNext(times: number): void;
  takeNamenodeDown(ms: number): Promise<void>;
  close(): Promise<void>;
}

const JAVA_CLASS: Record<string, string> = {
  FileNotFoundException: 'java.io.FileNotFoundException',
  AccessControlException: 'org.apache.hadoop.security.AccessControlException',
  SecurityException: 'java.lang.SecurityException',
  IOException: 'java.io.IOException',
  IllegalArgumentException: 'java.lang.IllegalArgumentException',
  FileAlreadyExistsException: 'org.apache.hadoop.fs.FileAlreadyExistsException',
};

function remote(res: ServerResponse, status: number, exception: string, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      RemoteException: { exception, javaClassName: JAVA_CLASS[exception] ?? 'java.io.IOException', message },
    }),
  );
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const listen = (server: Server, port = 0) =>
  new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });

export async function startWebHdfsServer(options: { httpfs?: boolean } = {}): Promise<WebHdfsServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'webhdfs-'));
  const permissions = new Map<string, string>();
  const requests: string[] = [];
  const faults: Fault[] = [];
  let renameFalse = 0;
  const local = (hdfsPath: string) => path.join(dataDir, ...hdfsPath.split('/').filter(Boolean));

  function injected(res: ServerResponse, op: string, step: Fault['step']): boolean {
    const fault = faults.find((f) => f.op === op && f.step === step && f.times > 0);
    if (!fault) return false;
    fault.times--;
    remote(res, fault.status, fault.exception, `injected ${fault.exception} on ${op} (${step})`);
    return true;
  }

  function parse(req: IncomingMessage): { hdfsPath: string; q: URLSearchParams } | null {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!url.pathname.startsWith('/webhdfs/v1')) return null;
    const hdfsPath =
      url.pathname.slice('/webhdfs/v1'.length).split('/').map(decodeURIComponent).join('/') || '/';
    return { hdfsPath, q: url.searchParams };
  }

  async function writeData(
    hdfsPath: string,
    q: URLSearchParams,
    data: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    const target = local(hdfsPath);
    await mkdir(path.dirname(target), { recursive: true });
    // overwrite=false creates the file only where none is, in one step, as HDFS's namenode does.
    const exclusive = q.get('overwrite') !== 'true';
    try {
      await writeFile(target, data, { flag: exclusive ? 'wx' : 'w' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return remote(res, 403, 'FileAlreadyExistsException', `${hdfsPath} already exists`);
    }
    permissions.set(hdfsPath, q.get('permission') ?? '644');
    res.writeHead(201, { location: `hdfs://127.0.0.1${hdfsPath}`, 'content-length': '0' });
    res.end();
  }

  const datanode = createServer(async (req, res) => {
    const parsed = parse(req);
    if (!parsed) return remote(res, 400, 'IllegalArgumentException', 'not a WebHDFS path');
    const op = parsed.q.get('op') ?? '';
    requests.push(`${op} datanode`);
    if (injected(res, op, 'datanode')) return;
    if (op === 'CREATE' && req.method === 'PUT')
      return writeData(parsed.hdfsPath, parsed.q, await body(req), res);
    if (op === 'OPEN' && req.method === 'GET') {
      const data = await readFile(local(parsed.hdfsPath)).catch(() => null);
      if (!data) return remote(res, 404, 'FileNotFoundException', `File ${parsed.hdfsPath} does not exist.`);
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(data);
      return;
    }
    remote(res, 400, 'IllegalArgumentException', `Invalid operation ${op} on the datanode`);
  });
  const datanodePort = await listen(datanode);

  async function serveNamenode(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parse(req);
    if (!parsed) return remote(res, 404, 'FileNotFoundException', 'not a WebHDFS path');
    const { hdfsPath, q } = parsed;
    const op = q.get('op') ?? '';
    requests.push(`${op} namenode`);
    if (!q.get('user.name') && !q.get('delegation')) {
      return remote(res, 401, 'SecurityException', 'Failed to obtain user group information: no user.name');
    }
    if (injected(res, op, 'namenode')) return;
    const target = local(hdfsPath);
    const found = await stat(target).catch(() => null);
    switch (`${req.method} ${op}`) {
      case 'GET GETFILESTATUS':
        if (!found) return remote(res, 404, 'FileNotFoundException', `File does not exist: ${hdfsPath}`);
        return json(res, 200, {
          FileStatus: {
            pathSuffix: '',
            type: found.isDirectory() ? 'DIRECTORY' : 'FILE',
            length: found.isDirectory() ? 0 : found.size,
            permission: permissions.get(hdfsPath) ?? '755',
          },
        });
      case 'GET LISTSTATUS': {
        if (!found) return remote(res, 404, 'FileNotFoundException', `File ${hdfsPath} does not exist.`);
        const entries = await readdir(target, { withFileTypes: true });
        const statuses = await Promise.all(
          entries.map(async (e) => ({
            pathSuffix: e.name,
            type: e.isDirectory() ? 'DIRECTORY' : 'FILE',
            length: e.isDirectory() ? 0 : (await stat(path.join(target, e.name))).size,
          })),
        );
        return json(res, 200, { FileStatuses: { FileStatus: statuses } });
      }
      case 'PUT MKDIRS':
        await mkdir(target, { recursive: true });
        permissions.set(hdfsPath, q.get('permission') ?? '755');
        return json(res, 200, { boolean: true });
      case 'PUT CREATE': {
        if (options.httpfs) {
          if (q.get('data') !== 'true' || req.headers['content-type'] !== 'application/octet-stream') {
            return remote(
              res,
              400,
              'IllegalArgumentException',
              'HttpFS CREATE needs data=true and Content-Type: application/octet-stream',
            );
          }
          return writeData(hdfsPath, q, await body(req), res);
        }
        await body(req);
        const location = `http://127.0.0.1:${datanodePort}${new URL(req.url ?? '/', 'http://x').pathname}?${q.toString()}`;
        if (q.get('noredirect') === 'true') return json(res, 200, { Location: location });
        res.writeHead(307, { location, 'content-length': '0' });
        res.end();
        return;
      }
      case 'GET OPEN': {
        if (!found) return remote(res, 404, 'FileNotFoundException', `File ${hdfsPath} does not exist.`);
        res.writeHead(307, {
          location: `http://127.0.0.1:${datanodePort}${new URL(req.url ?? '/', 'http://x').pathname}?${q.toString()}`,
        });
        res.end();
        return;
      }
      case 'PUT RENAME': {
        const destination = q.get('destination') ?? '';
        const parentExists = await stat(path.dirname(local(destination))).catch(() => null);
        const exists = await stat(local(destination)).catch(() => null);
        if (renameFalse > 0 || !found || exists || !parentExists) {
          if (renameFalse > 0) renameFalse--;
          return json(res, 200, { boolean: false });
        }
        await rename(target, local(destination));
        return json(res, 200, { boolean: true });
      }
      case 'DELETE DELETE':
        if (!found) return json(res, 200, { boolean: false });
        await rm(target, { recursive: q.get('recursive') === 'true', force: true });
        return json(res, 200, { boolean: true });
      default:
        return remote(
          res,
          400,
          'IllegalArgumentException',
          `Invalid value for webhdfs parameter "op": ${op}`,
        );
    }
  }

  let namenode = createServer((req, res) => void serveNamenode(req, res));
  const port = await listen(namenode);

  return {
    uri: (root) => `webhdfs://127.0.0.1:${port}${root}`,
    dataDir,
    permissions,
    requests,
    failNext(fault) {
      faults.push({ times: 1, ...fault });
    },
    renameFalseNext(times) {
      renameFalse += times;
    },
    async takeNamenodeDown(ms) {
      const down = namenode;
      down.closeAllConnections();
      await new Promise((r) => down.close(r));
      setTimeout(() => {
        namenode = createServer((req, res) => void serveNamenode(req, res));
        void listen(namenode, port);
      }, ms);
    },
    async close() {
      namenode.closeAllConnections();
      datanode.closeAllConnections();
      await Promise.all([new Promise((r) => namenode.close(r)), new Promise((r) => datanode.close(r))]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
