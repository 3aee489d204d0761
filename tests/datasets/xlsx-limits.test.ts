import { strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError, importFile } from '../../main/datasets/index';
import { MAX_XLSX_PART_BYTES, readXlsx } from '../../main/datasets/xlsx';
import { zipEntries } from '../../main/datasets/zip';
import { buildXlsx, tempDir } from './helpers';

/** Rewrites the uncompressed size the central directory declares for `name` (a forged archive). */
function declare(zip: Uint8Array, name: string, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  const target = strToU8(name);
  for (let p = 0; p + 46 < out.length; p++) {
    if (view.getUint32(p, true) !== 0x02014b50) continue;
    const len = view.getUint16(p + 28, true);
    if (len === target.length && out.subarray(p + 46, p + 46 + len).every((b, i) => b === target[i])) {
      view.setUint32(p + 24, size, true);
      return out;
    }
  }
  throw new Error(`no central directory entry ${name}`);
}

const workbook = {
  'xl/workbook.xml': strToU8('<workbook xmlns:r="r"><sheets><sheet name="EN_x" sheetId="1" r:id="rId1"/></sheets></workbook>'),
  'xl/_rels/workbook.xml.rels': strToU8('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
};

describe('xlsx part size limits', () => {
  const t = tempDir();
  afterAll(() => t.cleanup());
  const errOf = (file: string): Error => {
    try {
      importFile(file, { format: 'msst' });
    } catch (e) {
      expect(e).toBeInstanceOf(DatasetError);
      return e as Error;
    }
    throw new Error('accepted');
  };

  it('refuses a part whose declared size is above the limit, without inflating it, naming the file and the part', () => {
    const ok = buildXlsx('EN_x', [['ID', 'Sentence', 'Span'], ['1', 'Good film', 'Good(1)|film(0)']]);
    expect(importFile(t.file('ok.xlsx', ok), { format: 'msst' }).examples).toHaveLength(1);
    // 1 GiB declared for the sheet: refused from the central directory alone (a 1 MB file cannot make us inflate it).
    const bomb = declare(ok, 'xl/worksheets/sheet1.xml', 2 ** 30);
    expect(errOf(t.file('bomb.xlsx', bomb)).message).toBe(
      `bomb.xlsx: entry xl/worksheets/sheet1.xml is too large: 1073741824 bytes uncompressed; entries above ${MAX_XLSX_PART_BYTES} bytes are refused`.replace(/^/, `${t.dir}/`),
    );
  });

  it('stops inflating a part that inflates past the limit whatever it declares', () => {
    const sheet = strToU8(`<worksheet><sheetData>${'<row/>'.repeat(200_000)}</sheetData></worksheet>`); // 1.2 MB
    const lying = declare(zipSync({ ...workbook, 'xl/worksheets/sheet1.xml': sheet }), 'xl/worksheets/sheet1.xml', 1000);
    expect(() => readXlsx(lying, 64 * 1024)).toThrow(
      'entry xl/worksheets/sheet1.xml is too large: more than 65536 bytes once inflated (declared 1000); entries above 65536 bytes are refused',
    );
    // An honest declaration is refused before inflating; under a large enough limit the same file reads.
    expect(() => readXlsx(zipSync({ ...workbook, 'xl/worksheets/sheet1.xml': sheet }), 64 * 1024)).toThrow(/is too large: 1200\d+ bytes uncompressed/);
    expect(readXlsx(lying, 2 * 2 ** 20)[0].rows).toHaveLength(200_000);
  });

  it('with the default limit: a 70 MiB part of zeros in a small file is refused by the bytes actually inflated', () => {
    const zeros = new Uint8Array(70 * 2 ** 20);
    const zip = declare(zipSync({ ...workbook, 'xl/worksheets/sheet1.xml': zeros }, { level: 1 }), 'xl/worksheets/sheet1.xml', 10);
    expect(zip.length).toBeLessThan(2 * 2 ** 20);
    const before = process.memoryUsage().arrayBuffers;
    expect(errOf(t.file('zeros.xlsx', zip)).message).toMatch(/zeros\.xlsx: entry xl\/worksheets\/sheet1\.xml is too large: more than 67108864 bytes once inflated \(declared 10\)/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);
  });

  it('never inflates parts the reader does not need (styles, themes, drawings)', () => {
    const parts = unzipSync(buildXlsx('EN_x', [['ID', 'Sentence', 'Span'], ['1', 'Good film', 'Good(1)|film(0)']]));
    // A theme declared as 1 GiB whose deflate stream is garbage: reading it would fail or allocate 1 GiB.
    const zip = declare(zipSync({ ...parts, 'xl/theme/theme1.xml': strToU8('<theme/>'.repeat(1000)) }), 'xl/theme/theme1.xml', 2 ** 30);
    const theme = zipEntries(zip).get('xl/theme/theme1.xml')!;
    const view = new DataView(zip.buffer);
    const start = theme.localOffset + 30 + view.getUint16(theme.localOffset + 26, true) + view.getUint16(theme.localOffset + 28, true);
    zip.fill(0xff, start, start + theme.compressedSize);
    expect(() => unzipSync(zip)).toThrow();
    expect(importFile(t.file('junk.xlsx', zip), { format: 'msst' }).examples).toHaveLength(1);
  });
});
