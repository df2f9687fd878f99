import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BackgroundFileWriter, defaultStorageFs } from '../../src/storage/fs.js';
import { batch, config, open, readAll, tempDir, TOPIC_ID, waitFor } from './helpers.js';

const tp = { topic: 'bg', partition: 0 };

describe('background file writes', () => {
  it('replaces a file off the event loop and leaves no temporary file', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'checkpoint');
    const w = new BackgroundFileWriter(defaultStorageFs);
    const landed: boolean[] = [];
    w.write(path, 'one', (ok) => landed.push(ok));
    await w.idle();
    assert.equal(readFileSync(path, 'utf8'), 'one');
    assert.deepEqual(landed, [true]);
    assert.deepEqual(readdirSync(dir), ['checkpoint']);
  });

  it('lands a large buffer byte for byte (written and synced on the threadpool), and reports a write that fails', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'index');
    const data = Buffer.alloc((1 << 20) + 4093);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const w = new BackgroundFileWriter(defaultStorageFs);
    const landed: boolean[] = [];
    w.write(path, data, (ok) => landed.push(ok));
    w.write(join(dir, 'missing-dir', 'index'), data, (ok) => landed.push(ok));
    await w.idle();
    assert.ok(readFileSync(path).equals(data));
    assert.deepEqual(landed.sort(), [false, true]);
    assert.deepEqual(readdirSync(dir), ['index']);
  });

  it('lets the latest of several writes of a path win, whatever order the threadpool finishes them in', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'checkpoint');
    const w = new BackgroundFileWriter(defaultStorageFs);
    const landed: string[] = [];
    for (let i = 0; i < 20; i++) w.write(path, `v${i}`, (ok) => landed.push(`${i}:${ok}`));
    await w.idle();
    assert.equal(readFileSync(path, 'utf8'), 'v19');
    assert.ok(landed.includes('19:true'));
    assert.deepEqual(readdirSync(dir), ['checkpoint'], 'superseded temporary files are removed');
  });

  it('writes a path once at a time: of the writes made meanwhile only the newest follows', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'checkpoint');
    let threadpoolWrites = 0;
    const fs = { ...defaultStorageFs, writeFile: (p: string, d: Buffer | string, cb: (err: NodeJS.ErrnoException | null) => void) => {
      threadpoolWrites++;
      defaultStorageFs.writeFile!(p, d, cb);
    } };
    const w = new BackgroundFileWriter(fs);
    const landed: string[] = [];
    for (let i = 0; i < 20; i++) w.write(path, `v${i}`, (ok) => landed.push(`${i}:${ok}`));
    await w.idle();
    assert.equal(readFileSync(path, 'utf8'), 'v19');
    assert.equal(threadpoolWrites, 2, 'the first write, then the newest of the 19 that waited for it');
    assert.deepEqual(landed.filter((l) => l.endsWith(':true')), ['19:true']);
    assert.equal(landed.length, 20);
    assert.deepEqual(readdirSync(dir), ['checkpoint']);
  });

  it('never lands a background write over a synchronous one made after it', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'checkpoint');
    const w = new BackgroundFileWriter(defaultStorageFs);
    let result: boolean | null = null;
    w.write(path, 'stale', (ok) => (result = ok));
    w.supersede(path);
    writeFileSync(path, 'fresh');
    await w.idle();
    assert.equal(readFileSync(path, 'utf8'), 'fresh');
    assert.equal(result, false);
    await waitFor('the superseded temporary file to go', () => readdirSync(dir).length === 1);
  });

  it('keeps a replaced file’s old content under a second name through the rename, and hands that name to be removed', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'leader-epoch-checkpoint');
    writeFileSync(path, 'old content');
    const oldInode = statSync(path).ino;
    const retired: { name: string; content: string; ino: number }[] = [];
    // what the retiring sees is checked at the moment it is handed over, before anything removes it
    const w = new BackgroundFileWriter(defaultStorageFs, (name) =>
      retired.push({ name, content: readFileSync(name, 'utf8'), ino: statSync(name).ino }),
    );
    w.write(path, 'new content');
    await w.idle();
    assert.equal(readFileSync(path, 'utf8'), 'new content');
    assert.equal(retired.length, 1);
    assert.match(retired[0]!.name, /\.tmp$/); // a crash leftover goes with the other temporary files at the next start
    assert.equal(retired[0]!.content, 'old content');
    assert.equal(retired[0]!.ino, oldInode); // the same inode: the rename dropped a name, not the last one
    // the first write of a path has no old content to keep
    w.write(join(dir, 'fresh'), 'x');
    await w.idle();
    assert.equal(retired.length, 1);
  });

  it('writes a path the caller calls fresh without a sync and without a second name, and lands it all the same', async (t) => {
    const dir = tempDir(t);
    const calls: string[] = [];
    const fs = {
      ...defaultStorageFs,
      writeFile: (p: string, d: Buffer | string, cb: (err: NodeJS.ErrnoException | null) => void, opts?: { sync?: boolean }) => {
        calls.push(`writeFile sync=${opts?.sync !== false}`);
        defaultStorageFs.writeFile!(p, d, cb, opts);
      },
      link: (a: string, b: string, cb: (err: NodeJS.ErrnoException | null) => void) => {
        calls.push('link');
        defaultStorageFs.link!(a, b, cb);
      },
    };
    const w = new BackgroundFileWriter(fs);
    const landed: boolean[] = [];
    w.write(join(dir, 'a.index'), 'first', (ok) => landed.push(ok), true);
    await w.idle();
    assert.deepEqual(calls, ['writeFile sync=false']);
    w.write(join(dir, 'a.index'), 'second', (ok) => landed.push(ok));
    await w.idle();
    assert.deepEqual(calls, ['writeFile sync=false', 'writeFile sync=true', 'link']);
    assert.equal(readFileSync(join(dir, 'a.index'), 'utf8'), 'second');
    assert.deepEqual(landed, [true, true]);
  });

  it('writes a new segment’s index files as fresh at its roll, and those of a segment opened from disk as replacements', async (t) => {
    const dataDir = tempDir(t);
    const writes: { name: string; sync: boolean }[] = [];
    const links: string[] = [];
    const fs = {
      ...defaultStorageFs,
      writeFile: (p: string, d: Buffer | string, cb: (err: NodeJS.ErrnoException | null) => void, opts?: { sync?: boolean }) => {
        writes.push({ name: p.slice(p.lastIndexOf('/') + 1).replace(/\.\d+\.tmp$/, ''), sync: opts?.sync !== false });
        defaultStorageFs.writeFile!(p, d, cb, opts);
      },
      link: (a: string, b: string, cb: (err: NodeJS.ErrnoException | null) => void) => {
        links.push(a.slice(a.lastIndexOf('/') + 1));
        defaultStorageFs.link!(a, b, cb);
      },
    };
    const storage = await open(t, dataDir, { fs });
    const cfg = config({ segmentBytes: 400 });
    const log = storage.openLog(tp, TOPIC_ID, cfg);
    // two batches fit a segment: five leave the active one with room for one more after the reopen below
    // (timestamps of now: the reopened active segment must not roll by segment.ms at once)
    const put = (l: typeof log, i: number) => l.append(batch({ values: [`payload-${i}`.padEnd(80, '-')], timestamp: Date.now() }), { leaderEpoch: 0 });
    for (let i = 0; i < 5; i++) put(log, i);
    const rolled = readdirSync(log.dir).filter((n) => n.endsWith('.log')).sort();
    assert.ok(rolled.length >= 2);
    await log.flush(); // a rolled segment's index files are written once an fsync covers it
    await waitFor('the first roll’s index files', () => writes.filter((w) => w.name.endsWith('index')).length >= 2);
    const first = rolled[0]!.slice(0, -'.log'.length);
    assert.deepEqual(
      writes.filter((w) => w.name.startsWith(first)),
      [
        { name: `${first}.index`, sync: false },
        { name: `${first}.timeindex`, sync: false },
      ],
    );
    assert.ok(!links.some((l) => l.startsWith(first)), 'a fresh index file gets no second name');
    await storage.close(); // writes the active segment's indexes: on disk now

    writes.length = 0;
    links.length = 0;
    const again = await open(t, dataDir, { fs });
    const reopened = again.openLog(tp, TOPIC_ID, cfg);
    const active = readdirSync(reopened.dir).filter((n) => n.endsWith('.log')).sort().at(-1)!.slice(0, -'.log'.length);
    for (let i = 5; i < 12 && readdirSync(reopened.dir).filter((n) => n.endsWith('.log')).length === rolled.length; i++) {
      put(reopened, i);
    }
    await reopened.flush();
    await waitFor('the reopened segment’s index files', () => writes.filter((w) => w.name.startsWith(active)).length >= 2);
    assert.ok(writes.filter((w) => w.name.startsWith(active)).every((w) => w.sync), 'replacing files: synced');
    await waitFor('their old content kept through the rename', () => links.filter((l) => l.startsWith(active)).length === 2);
  });

  it('close writes the indexes of rolled segments whose background writes have not landed or not started', async (t) => {
    const dataDir = tempDir(t);
    const storage = await open(t, dataDir);
    const log = storage.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
    for (let i = 0; i < 12; i++) log.append(batch([`payload-${i}`.padEnd(80, '-')]), { leaderEpoch: 0 });
    // closed at once, before the background writes of the last roll can have landed
    await storage.close();
    const names = readdirSync(log.dir);
    const logs = names.filter((n) => n.endsWith('.log'));
    assert.ok(logs.length >= 3);
    for (const l of logs) {
      const base = l.slice(0, -'.log'.length);
      assert.ok(names.includes(`${base}.index`) && names.includes(`${base}.timeindex`), `indexes of ${base}`);
    }
    assert.equal(names.filter((n) => n.endsWith('.tmp')).length, 0);
    // reopened cleanly: the indexes are trusted and every record reads back
    const again = await open(t, dataDir);
    const reopened = again.openLog(tp, TOPIC_ID, config({ segmentBytes: 400 }));
    assert.deepEqual(readAll(reopened).map((r) => r.offset), Array.from({ length: 12 }, (_, i) => i));
  });
});
