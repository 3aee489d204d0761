// downloadVerified (main/models/registry-download.ts) on its own, against the loopback server: the edge cases of
// resuming that the API tests do not reach — a kept part that is already the whole file (no request at all, or a
// 416 answer when the size was not published), a part left by another URL (discarded, not continued), a server
// that offers another size than the published one (refused before a byte is written), redirects (as Hugging
// Face's resolve URLs answer) followed with the Range header kept.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateModelSync } from '../../main/gguf/generate';
import { downloadVerified, DownloadError, DownloadInterrupted, partialDownload } from '../../main/models/registry-download';
import { tempDir } from '../gguf/helpers';
import { serveFile, type LoopbackServer } from './loopback-server';

const tmp = tempDir('dl-verified-');
const model = generateModelSync({ path: join(tmp.dir, 'source.gguf'), nLayer: 1, nEmbd: 32, nHead: 4, nHeadKv: 2, nFf: 64, contextLength: 128, weightType: 'Q8_0', seed: 3 });
const bytes = readFileSync(model.path);
let server: LoopbackServer;
beforeAll(async () => {
  server = await serveFile(bytes);
});
afterAll(async () => {
  await server.close();
  tmp.cleanup();
});

let n = 0;
const fresh = () => join(tmp.dir, `d${++n}`);

describe('downloadVerified', () => {
  it('a kept part that is already the whole file is verified without asking the server again', async () => {
    const dir = fresh();
    server.options.dropAt = bytes.length - 1; // everything but the last byte
    await expect(downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length })).rejects.toBeInstanceOf(DownloadInterrupted);
    server.options.dropAt = null;
    // complete the part by hand to the full file: the next call must not send a request
    writeFileSync(join(dir, 'm.gguf.part'), bytes);
    const before = server.ranges.length;
    const r = await downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length });
    expect(server.ranges.length).toBe(before);
    expect(r).toMatchObject({ bytes: bytes.length, sha256: model.sha256, verified: true, resumedFrom: bytes.length });
  });

  it('without a published size, a whole kept part meets a 416 and is verified', async () => {
    const dir = fresh();
    server.options.dropAt = 100;
    await expect(downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: null })).rejects.toBeInstanceOf(DownloadInterrupted);
    server.options.dropAt = null;
    writeFileSync(join(dir, 'm.gguf.part'), bytes);
    const before = server.ranges.length;
    const r = await downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: null });
    expect(server.ranges.slice(before)).toEqual([`bytes=${bytes.length}-`]);
    expect(r.verified).toBe(true);
  });

  it('a part left by another URL is discarded, not continued', async () => {
    const dir = fresh();
    server.options.dropAt = 1000;
    await expect(downloadVerified({ url: `${server.url}`, directory: dir, file: 'm.gguf', sha256: 'a'.repeat(64), expectedBytes: null })).rejects.toBeInstanceOf(DownloadInterrupted);
    expect(partialDownload(dir, 'm.gguf')?.bytes).toBeGreaterThan(0);
    server.options.dropAt = null;
    const before = server.ranges.length;
    // same file name, another expected hash: the kept bytes are not this download's
    const r = await downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length });
    expect(server.ranges.slice(before)).toEqual(['']);
    expect(r).toMatchObject({ resumedFrom: 0, verified: true });
  });

  it('a server offering another size than the published one is refused before anything is kept', async () => {
    const dir = fresh();
    const err = await downloadVerified({ url: server.url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length + 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect(err.message).toMatch(new RegExp(`offers ${bytes.length} bytes but the published file has ${bytes.length + 1}`));
    expect(existsSync(join(dir, 'm.gguf.part'))).toBe(false);
    expect(existsSync(join(dir, 'm.gguf'))).toBe(false);
  });

  it('follows redirects and keeps the Range header on the way', async () => {
    const dir = fresh();
    const redirect = createServer((req, res) => res.writeHead(302, { Location: server.url }).end());
    await new Promise<void>((r) => redirect.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(redirect.address() as AddressInfo).port}/resolve/main/m.gguf`;
    try {
      server.options.dropAt = 2000;
      await expect(downloadVerified({ url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length })).rejects.toBeInstanceOf(DownloadInterrupted);
      server.options.dropAt = null;
      const kept = partialDownload(dir, 'm.gguf')!.bytes;
      const before = server.ranges.length;
      const r = await downloadVerified({ url, directory: dir, file: 'm.gguf', sha256: model.sha256, expectedBytes: bytes.length });
      expect(server.ranges.slice(before)).toEqual([`bytes=${kept}-`]);
      expect(r).toMatchObject({ verified: true, resumedFrom: kept });
    } finally {
      redirect.closeAllConnections();
      await new Promise((r) => redirect.close(r));
    }
  });

  it('refuses a file name that is not a plain name', async () => {
    for (const file of ['../x.gguf', 'a/b.gguf', '/etc/passwd', '']) {
      await expect(downloadVerified({ url: server.url, directory: fresh(), file, sha256: null, expectedBytes: null })).rejects.toThrow(/not a plain file name/);
    }
  });
});
