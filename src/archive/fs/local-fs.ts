/**
 * The archive on a local directory. Files are built directly under `<root>/+tmp`, fsynced, and linked into
 * place (a link never replaces an existing file, unlike rename(2)), then the directory is fsynced, so a
 * committed name survives a power cut.
 */
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { CroupierError } from '../../errors/index.ts';
import { TMP_DIR } from '../layout.ts';
import type { ArchiveFileSystem, FileStatus } from './archive-fs.ts';

/**
 * A temporary name beside `target`, its own to one write: a name made of the pid and the millisecond was shared by two
 * writes of one target in one process within one millisecond, and the one that found it taken removed the other's
 * file, then wrote its own text under that name, which the other linked into place as its own (two marker claims
 * then both believed they held the one file).
 */
const tmpNameOf = (target: string, kind: 'tmp' | 'new'): string =>
  `${target}.${process.pid}.${randomUUID().slice(0, 12)}.${kind}`;

export function createLocalFileSystem(root: string): ArchiveFileSystem {
  const abs = (p: string) => (p === '' ? root : path.join(root, ...p.split('/')));
  const stagingDir = path.join(root, TMP_DIR);

  async function fsyncPath(p: string, flags = constants.O_RDONLY): Promise<void> {
    const handle = await open(p, flags);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async function writeSynced(file: string, text: string, flags: string): Promise<void> {
    const handle = await open(file, flags, 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  const io = (what: string, p: string, error: unknown) =>
    new CroupierError(
      'CROUPIER_ERR_ARCHIVE_IO',
      `cannot ${what} ${p}: ${(error as Error).message}`,
      { path: p, errno: (error as NodeJS.ErrnoException).code },
      { cause: error },
    );

  return {
    location: root,
    stagingDir,
    async list(dir, withSizes = false) {
      try {
        const entries = await readdir(abs(dir), { withFileTypes: true });
        const out: FileStatus[] = [];
        for (const e of entries) {
          if (e.isDirectory()) out.push({ name: e.name, type: 'dir', bytes: 0 });
          else if (e.isFile()) {
            const bytes = withSizes ? (await stat(path.join(abs(dir), e.name))).size : -1;
            out.push({ name: e.name, type: 'file', bytes });
          }
        }
        return out;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw io('list', abs(dir), error);
      }
    },
    async stat(p) {
      try {
        const s = await stat(abs(p));
        return { name: path.basename(p), type: s.isDirectory() ? 'dir' : 'file', bytes: s.size };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw io('stat', abs(p), error);
      }
    },
    async mkdirs(dir) {
      await mkdir(abs(dir), { recursive: true, mode: 0o755 }).catch((error: unknown) => {
        throw io('create directory', abs(dir), error);
      });
    },
    async upload(localPath, p) {
      try {
        await fsyncPath(localPath);
        if (path.resolve(localPath) !== abs(p)) await rename(localPath, abs(p));
      } catch (error) {
        throw io('store', abs(p), error);
      }
    },
    async writeText(p, text) {
      const target = abs(p);
      const tmp = tmpNameOf(target, 'tmp');
      try {
        await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        await writeSynced(tmp, text, 'w');
        await rename(tmp, target);
      } catch (error) {
        await unlink(tmp).catch(() => undefined);
        throw io('write', target, error);
      }
    },
    async createText(p, text) {
      const target = abs(p);
      const tmp = tmpNameOf(target, 'new');
      try {
        await mkdir(path.dirname(target), { recursive: true, mode: 0o755 });
        await writeSynced(tmp, text, 'wx');
        // A link never replaces an existing file: of two at once, one creates it.
        await link(tmp, target);
        await fsyncPath(path.dirname(target));
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw io('create', target, error);
      } finally {
        await unlink(tmp).catch(() => undefined);
      }
    },
    async readText(p) {
      try {
        return await readFile(abs(p), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw io('read', abs(p), error);
      }
    },
    async rename(from, to) {
      try {
        await link(abs(from), abs(to));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOENT') {
          throw new CroupierError(
            'CROUPIER_ERR_ARCHIVE_RENAME',
            `cannot rename ${abs(from)} to ${abs(to)}: ${code === 'EEXIST' ? 'the target exists' : 'the source is missing'}`,
            { from, to, exists: code === 'EEXIST' },
          );
        }
        throw io('rename into', abs(to), error);
      }
      try {
        await unlink(abs(from));
        await fsyncPath(path.dirname(abs(to)));
      } catch (error) {
        throw io('finish renaming into', abs(to), error);
      }
    },
    async remove(p) {
      try {
        await stat(abs(p));
      } catch {
        return false;
      }
      await rm(abs(p), { recursive: true, force: true }).catch((error: unknown) => {
        throw io('remove', abs(p), error);
      });
      return true;
    },
    async localCopy(p) {
      return { localPath: abs(p), copied: false };
    },
  };
}
