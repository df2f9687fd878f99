import assert from 'node:assert/strict';
import * as nodeFs from 'node:fs';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultStorageFs, FileRemover, removeGradually, type RemoveOps } from '../../src/storage/fs.js';
import type { StorageFs } from '../../src/storage/types.js';
import { tempDir } from './helpers.js';

const MiB = 1024 * 1024;

/** node:fs with every call logged: the name, and the length of each ftruncate */
function loggedOps(log: string[]): RemoveOps {
  return {
    lstat: (p, cb) => (log.push(`lstat ${p}`), nodeFs.lstat(p, cb)),
    readdir: (p, cb) => nodeFs.readdir(p, cb),
    rmdir: (p, cb) => (log.push(`rmdir ${p}`), nodeFs.rmdir(p, cb)),
    unlink: (p, cb) => (log.push(`unlink ${p}`), nodeFs.unlink(p, cb)),
    open: (p, flags, cb) => nodeFs.open(p, flags, cb),
    ftruncate: (fd, len, cb) => {
      log.push(`ftruncate ${len}`);
      // each step is its own operation: the file is really shorter before the next one is issued
      nodeFs.ftruncate(fd, len, (err) => {
        if (err === null) assert.equal(nodeFs.fstatSync(fd).size, len);
        cb(err);
      });
    },
    close: (fd, cb) => nodeFs.close(fd, cb),
  };
}

const removed = (path: string, step: number, ops: RemoveOps) =>
  new Promise<void>((resolve, reject) => removeGradually(path, step, (err) => (err ? reject(err) : resolve()), ops));

describe('gradual removal of retired files', () => {
  it('cuts a large file down from its end, one step per operation, before unlinking it', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, '00000000000000000000.log.deleted');
    writeFileSync(path, Buffer.alloc(5 * MiB + 3, 7));
    const log: string[] = [];
    await removed(path, MiB, loggedOps(log));
    assert.equal(existsSync(path), false);
    assert.deepEqual(log, [
      `lstat ${path}`,
      `ftruncate ${4 * MiB + 3}`,
      `ftruncate ${3 * MiB + 3}`,
      `ftruncate ${2 * MiB + 3}`,
      `ftruncate ${MiB + 3}`,
      `ftruncate 3`,
      `unlink ${path}`,
    ]);
  });

  it('unlinks a small file at once, removes a directory tree entry by entry, and takes a missing path as removed', async (t) => {
    const dir = tempDir(t);
    const small = join(dir, 'small');
    writeFileSync(small, 'x');
    const tree = join(dir, 'topic-0.abc-delete');
    mkdirSync(join(tree, 'sub'), { recursive: true });
    writeFileSync(join(tree, 'a.log'), Buffer.alloc(2 * MiB + 1));
    writeFileSync(join(tree, 'sub', 'b.index'), 'b');
    const log: string[] = [];
    await removed(small, MiB, loggedOps(log));
    assert.deepEqual(log, [`lstat ${small}`, `unlink ${small}`]);
    log.length = 0;
    await removed(tree, MiB, loggedOps(log));
    assert.equal(existsSync(tree), false);
    assert.deepEqual(
      log.filter((l) => !l.startsWith('lstat')),
      [`ftruncate ${MiB + 1}`, 'ftruncate 1', `unlink ${join(tree, 'a.log')}`, `unlink ${join(tree, 'sub', 'b.index')}`, `rmdir ${join(tree, 'sub')}`, `rmdir ${tree}`],
    );
    await removed(join(dir, 'never-was'), MiB, loggedOps(log)); // resolves
  });

  it('skips the lstat for a path known to be a plain file, cutting it down by the size it was given', async (t) => {
    const dir = tempDir(t);
    const big = join(dir, '00000000000000000000.log.deleted');
    writeFileSync(big, Buffer.alloc(3 * MiB + 5, 1));
    const small = join(dir, '00000000000000000000.index.deleted');
    writeFileSync(small, Buffer.alloc(4096));
    const log: string[] = [];
    const removedFile = (path: string, fileBytes: number) =>
      new Promise<void>((resolve, reject) => removeGradually(path, MiB, (err) => (err ? reject(err) : resolve()), loggedOps(log), fileBytes));
    await removedFile(big, 3 * MiB + 5);
    await removedFile(small, 0);
    await removedFile(join(dir, 'gone.log.deleted'), 2 * MiB); // a missing file counts as removed, also with a size
    assert.equal(existsSync(big), false);
    assert.equal(existsSync(small), false);
    assert.deepEqual(log, [
      `ftruncate ${2 * MiB + 5}`,
      `ftruncate ${MiB + 5}`,
      'ftruncate 5',
      `unlink ${big}`,
      `unlink ${small}`,
    ]);
  });

  it('removes one path at a time, and all that is queued at once when hurried (shutdown)', async () => {
    const started: string[] = [];
    const finish = new Map<string, () => void>();
    let running = 0;
    let most = 0;
    const take = (kind: string) => (path: string, cb: (err: NodeJS.ErrnoException | null) => void) => {
      started.push(`${kind} ${path}`);
      running++;
      most = Math.max(most, running);
      finish.set(path, () => {
        running--;
        finish.delete(path);
        cb(null);
      });
    };
    const fs: StorageFs = { ...defaultStorageFs, removeGradually: take('gradual'), rm: take('rm') };
    const remover = new FileRemover(fs);
    for (const p of ['a', 'b', 'c', 'd']) remover.remove(p);
    assert.deepEqual(started, ['gradual a']);
    assert.equal(remover.pending, 4);
    finish.get('a')!();
    assert.deepEqual(started, ['gradual a', 'gradual b']);
    let idle = false;
    const idled = remover.hurry().then(() => (idle = true));
    assert.deepEqual(started, ['gradual a', 'gradual b', 'rm c', 'rm d']);
    remover.remove('e'); // after hurry: at once
    assert.equal(started.at(-1), 'rm e');
    for (const p of ['c', 'd', 'e']) finish.get(p)!();
    await new Promise((r) => setImmediate(r));
    assert.equal(idle, false, 'b is still being removed');
    finish.get('b')!();
    await idled;
    assert.equal(remover.pending, 0);
    assert.equal(most, 4); // the gradual one and the three hurried ones
  });

  it('without the gradual call, removes with rm, still one at a time', async () => {
    const calls: string[] = [];
    const pendingCbs: (() => void)[] = [];
    const fs: StorageFs = { ...defaultStorageFs, removeGradually: undefined, rm: (p, cb) => (calls.push(p), pendingCbs.push(() => cb(null))) };
    const remover = new FileRemover(fs);
    remover.remove('x');
    remover.remove('y');
    assert.deepEqual(calls, ['x']);
    pendingCbs.shift()!();
    assert.deepEqual(calls, ['x', 'y']);
    pendingCbs.shift()!();
    await remover.idle();
  });
});
