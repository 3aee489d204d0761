import { strToU8, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { columnName, readXlsx } from '../../main/datasets/xlsx';
import { parseXml, textContent } from '../../main/datasets/xml';
import { buildXlsx } from './helpers';

describe('XML reader', () => {
  it('decodes entities, CDATA and character references; normalises CR LF', () => {
    const el = parseXml('<?xml version="1.0"?><!-- c --><a x="1 &amp; 2"><t>&lt;b&gt; &#229;&#xE6; &quot;q&apos;</t><t><![CDATA[<raw> & ]]></t><t>l1\r\nl2</t></a>');
    expect(el.attrs.x).toBe('1 & 2');
    expect(el.children.map((c) => (typeof c === 'string' ? c : textContent(c)))).toEqual(['<b> åæ "q\'', '<raw> & ', 'l1\nl2']);
  });
  it('refuses malformed and truncated XML', () => {
    expect(() => parseXml('<a><b></a>')).toThrow(/end tag <\/a> does not match <b>/);
    expect(() => parseXml('<a><b>text')).toThrow(/unclosed element <b> \(truncated file\?\)/);
    expect(() => parseXml('<a>&nbsp;</a>')).toThrow(/unknown entity "&nbsp;"/);
    expect(() => parseXml('<a x=1/>')).toThrow(/attribute x value is not quoted/);
  });
});

describe('XLSX reader', () => {
  it('reads rich-text shared strings (runs concatenated, phonetic runs skipped), booleans and numbers', () => {
    const files = {
      'xl/workbook.xml': strToU8('<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
      'xl/_rels/workbook.xml.rels': strToU8('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
      'xl/sharedStrings.xml': strToU8('<sst><si><r><t>Gl</t></r><r><rPr/><t xml:space="preserve">æde </t></r><rPh><t>x</t></rPh></si></sst>'),
      'xl/worksheets/sheet1.xml': strToU8('<worksheet><sheetData><row r="3"><c r="B3" t="s"><v>0</v></c><c r="AA3" t="b"><v>1</v></c><c r="AB3"><v>2.5</v></c></row></sheetData></worksheet>'),
    };
    const [sheet] = readXlsx(zipSync(files));
    expect(sheet.name).toBe('S');
    expect(sheet.rows[0].row).toBe(3);
    expect(sheet.rows[0].cells[1]).toEqual({ ref: 'B3', value: 'Glæde ', type: 'string' });
    expect(sheet.rows[0].cells[26]).toEqual({ ref: 'AA3', value: 'TRUE', type: 'boolean' });
    expect(sheet.rows[0].cells[27]).toEqual({ ref: 'AB3', value: '2.5', type: 'number' });
    expect([0, 25, 26, 27, 701, 702].map(columnName)).toEqual(['A', 'Z', 'AA', 'AB', 'ZZ', 'AAA']);
  });
  it('refuses a zip whose sheet XML is cut short, or that is not a workbook', () => {
    const ok = buildXlsx('EN_x', [['ID'], [1]]);
    const cut = zipSync({
      'xl/workbook.xml': strToU8('<workbook xmlns:r="r"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
      'xl/_rels/workbook.xml.rels': strToU8('<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>'),
      'xl/worksheets/sheet1.xml': strToU8('<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>ID</t>'),
    });
    expect(readXlsx(ok)[0].rows).toHaveLength(2);
    expect(() => readXlsx(cut)).toThrow(/part xl\/worksheets\/sheet1\.xml is not well-formed XML: unclosed element <is> \(truncated file\?\)/);
    expect(() => readXlsx(zipSync({ 'a.txt': strToU8('hi') }))).toThrow(/not an \.xlsx workbook \(xl\/workbook\.xml is missing\)/);
  });
});
