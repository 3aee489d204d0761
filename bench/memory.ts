/**
 * npm run bench -- memory — peak resident memory (maxRSS of a fresh child process) for the inputs
 * that used to be read whole (issue 11, items 8 and 9). Target: below 300 MB each.
 *   csv-stream  a generated 50 MB CSV (~280,000 examples) read by streamDataset: validation pass,
 *               then every example iterated and serialised as the store row would be (a chunked writer)
 *   csv-import  the same file stored in a real SQLite store: streamed into the store's staged writer
 *               (beginImport) where the store has one, else importFile + insert (every example in memory,
 *               ~1.1 GB); --skip-import leaves it out
 *   upload      a 1 GiB upload streamed over HTTP to browser mode's server (127.0.0.1) — the server's
 *               process is measured
 *   xlsx-bomb   a ~1 MB .xlsx whose sheet inflates to 1 GiB while declaring 1,000 bytes, imported as mSST
 *               (refused once 64 MiB are inflated)
 *   npx tsx bench/memory.ts [--csv-mb 50] [--upload-mb 1024] [--skip-import] [--only NAME]
 */
import { fork } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Zip, ZipDeflate, strToU8 } from 'fflate';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const self = fileURLToPath(import.meta.url);
const MB = 2 ** 20;

// ---- child side: one scenario, then report maxRSS ---------------------------------------------
if (process.argv[2] === '--child') {
  const [, , , scenario, file, dir] = process.argv;
  const report = (extra: Record<string, unknown> = {}) => process.send!({ maxRssKb: process.resourceUsage().maxRSS, ...extra });
  if (scenario === 'csv-stream') {
    const { streamDataset } = await import('../main/datasets/index');
    const s = streamDataset(file, { format: 'csv', language: 'en' });
    let n = 0;
    let bytes = 0;
    for (const ex of s.examples) {
      n++;
      bytes += ex.text.length + JSON.stringify(ex.words).length + JSON.stringify(ex.labels).length + JSON.stringify(ex.rationaleSpans).length;
    }
    report({ examples: n, serialisedChars: bytes });
  } else if (scenario === 'csv-import') {
    const { importFile, streamDataset } = await import('../main/datasets/index');
    const { writeStream } = await import('../main/datasets/stream');
    const { openStore } = await import('../main/store');
    const store = openStore(join(dir, 'import.sqlite'));
    // With a staged store writer (beginImport: chunked transactions) the import streams end to end;
    // without one, the whole dataset goes to insert() in memory.
    const repo = store.datasets as unknown as { beginImport?: (meta: object) => import('../main/datasets/stream').ExampleSink };
    let n: number;
    let how: string;
    if (typeof repo.beginImport === 'function') {
      const s = streamDataset(file, { format: 'csv', language: 'en' });
      const { examples: _, exampleCount, ...meta } = s;
      writeStream(s, repo.beginImport(meta));
      n = exampleCount;
      how = 'streamDataset + staged store writer in batches';
    } else {
      const parsed = importFile(file, { format: 'csv', language: 'en' });
      store.datasets.insert(parsed);
      n = parsed.examples.length;
      how = 'importFile + insert (no staged writer in this store: every example in memory)';
    }
    store.close();
    report({ examples: n, how });
  } else if (scenario === 'xlsx-bomb') {
    const { importFile } = await import('../main/datasets/index');
    let message = '';
    try {
      importFile(file, { format: 'msst' });
    } catch (e) {
      message = (e as Error).message;
    }
    report({ refused: message });
  } else if (scenario === 'upload') {
    const { Workbench } = await import('../main/api/service');
    const { startServer } = await import('../main/server/server');
    const wb = new Workbench({ dbFile: join(dir, 'wb.sqlite'), dataDir: dir, mode: 'browser', version: 'bench' });
    const srv = await startServer({ workbench: wb, staticDir: null });
    process.send!({ port: srv.port, token: srv.token });
    process.on('message', async () => {
      report();
      await srv.close();
      wb.close();
      process.exit(0);
    });
  }
  if (scenario !== 'upload') process.exit(0);
}

// ---- parent side -------------------------------------------------------------------------------
interface ChildReport {
  maxRssKb: number;
  [k: string]: unknown;
}

function child(scenario: string, file: string, dir: string, onStart?: (m: { port: number; token: string }, ask: () => void) => void): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const c = fork(self, ['--child', scenario, file, dir], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    c.on('message', (m: { port?: number; token?: string } & Partial<ChildReport>) => {
      if (m.port !== undefined && onStart) onStart(m as { port: number; token: string }, () => c.send('report'));
      else if (m.maxRssKb !== undefined) resolve(m as ChildReport);
    });
    c.on('error', reject);
    c.on('exit', (code) => code !== 0 && reject(new Error(`${scenario}: child exited ${code}`)));
  });
}

/** A deterministic CSV of about `mb` MB: id, text (20–50 words), label. */
async function writeCsv(path: string, mb: number): Promise<number> {
  const words = ['the', 'film', 'was', 'lovely', 'and', 'a', 'bit', 'long', 'but', 'acting', 'great', 'plot', 'weak', 'music', 'good', 'ending', 'sad'];
  let seed = 1;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = createWriteStream(path);
  let size = 0;
  let rows = 0;
  let buf = 'id,text,label\n';
  while (size < mb * MB) {
    const n = 20 + Math.floor(rnd() * 30);
    const text = Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' ');
    const line = `r${rows},"${text}",${rnd() < 0.5 ? 'positive' : 'negative'}\n`;
    buf += line;
    size += line.length;
    rows++;
    if (buf.length > MB) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise<void>((r) => out.end(() => r()));
  return rows;
}

/** An mSST-shaped .xlsx whose sheet is 1 GiB of spaces inside <sheetData>, declared as 1,000 bytes. */
function writeXlsxBomb(path: string): number {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((err, data) => {
    if (err) throw err;
    chunks.push(data);
  });
  const add = (name: string, text: string) => {
    const f = new ZipDeflate(name, { level: 9 });
    zip.add(f);
    f.push(strToU8(text), true);
  };
  add('xl/workbook.xml', '<workbook xmlns:r="r"><sheets><sheet name="EN_x" sheetId="1" r:id="rId1"/></sheets></workbook>');
  add('xl/_rels/workbook.xml.rels', '<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>');
  const sheet = new ZipDeflate('xl/worksheets/sheet1.xml', { level: 9 });
  zip.add(sheet);
  sheet.push(strToU8('<worksheet><sheetData>'));
  const spaces = new Uint8Array(MB).fill(0x20);
  for (let i = 0; i < 1024; i++) sheet.push(spaces);
  sheet.push(strToU8('</sheetData></worksheet>'), true);
  zip.end();
  const bytes = Buffer.concat(chunks);
  // Forge the central directory's uncompressed size of the sheet: the reader must count what it inflates.
  const name = Buffer.from('xl/worksheets/sheet1.xml');
  for (let p = bytes.length - 22; p >= 0; p--) {
    if (bytes.readUInt32LE(p) === 0x02014b50 && bytes.subarray(p + 46, p + 46 + name.length).equals(name)) {
      bytes.writeUInt32LE(1000, p + 24);
      break;
    }
  }
  writeFileSync(path, bytes);
  return bytes.length;
}

/** Streams `mb` MiB of generated bytes to the server's upload endpoint; never holds more than one chunk. */
function upload(port: number, token: string, mb: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/api/upload?name=big.gguf', method: 'POST', headers: { host: `127.0.0.1:${port}`, authorization: `Bearer ${token}`, 'content-length': String(mb * MB) } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', reject);
    const chunk = Buffer.alloc(MB);
    let i = 0;
    const pump = () => {
      while (i < mb) {
        chunk.fill(i & 0xff);
        i++;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

const only = arg('only');
const want = (n: string) => !only || only === n;
const dir = mkdtempSync(join(tmpdir(), 'rw-bench-memory-'));
const rows: [string, string, number, string][] = [];
const mbOf = (kb: number) => Math.round(kb / 1024);
try {
  const csvMb = Number(arg('csv-mb') ?? 50);
  const csv = join(dir, 'big.csv');
  if (want('csv-stream') || want('csv-import')) {
    const n = await writeCsv(csv, csvMb);
    if (want('csv-stream')) {
      const r = await child('csv-stream', csv, dir);
      rows.push(['csv-stream', `${csvMb} MB CSV, ${n} rows`, mbOf(r.maxRssKb), `${r.examples} examples streamed`]);
    }
    if (want('csv-import') && !process.argv.includes('--skip-import')) {
      const r = await child('csv-import', csv, dir);
      rows.push(['csv-import', `${csvMb} MB CSV, ${n} rows`, mbOf(r.maxRssKb), `${r.examples} examples stored: ${r.how}`]);
    }
  }
  if (want('upload')) {
    const mb = Number(arg('upload-mb') ?? 1024);
    let answer = { status: 0, body: '' };
    const r = await child('upload', '-', dir, async ({ port, token }, ask) => {
      answer = await upload(port, token, mb);
      ask();
    });
    rows.push(['upload', `${mb} MiB over HTTP`, mbOf(r.maxRssKb), `HTTP ${answer.status}`]);
  }
  if (want('xlsx-bomb')) {
    const f = join(dir, 'bomb.xlsx');
    const size = writeXlsxBomb(f);
    const r = await child('xlsx-bomb', f, dir);
    rows.push(['xlsx-bomb', `${(size / MB).toFixed(1)} MB .xlsx, 1 GiB sheet`, mbOf(r.maxRssKb), String(r.refused).replace(`${dir}/`, '')]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('bench:memory — peak RSS of the process doing the work (target < 300 MB)');
for (const [name, input, mb, note] of rows) console.log(`  ${name.padEnd(11)} ${input.padEnd(32)} ${String(mb).padStart(6)} MB  ${mb < 300 ? 'ok ' : 'OVER'}  ${note}`);
