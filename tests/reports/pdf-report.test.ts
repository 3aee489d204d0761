import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../main/reports/html';
import { htmlToPdf } from '../../main/reports/pdf';
import { kappa, paperReportData, readOneOverN } from './paper-fixture';

const pdfText = (f: string) => execFileSync('pdftotext', ['-layout', f, '-'], { encoding: 'utf8' });
const pdfPages = (f: string) => Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [f], { encoding: 'utf8' }))![1]);

describe('report PDF from the published SST responses', () => {
  it('kappa reference: paper convention (0 when a mask is empty) and a hand-computed case', () => {
    expect(kappa([0, 0, 0], [1, 0, 0])).toBe(0);
    // a=[1,1,0,0], b=[1,0,0,0]: po=3/4, pe=.5*.25+.5*.75=.5 → kappa=.5
    expect(kappa([1, 1, 0, 0], [1, 0, 0, 0])).toBeCloseTo(0.5, 12);
  });

  it('renders tables, heatmap, faithfulness bars and per-token heatmaps to a multi-page PDF with multilingual text', async () => {
    const data = paperReportData();
    const rows = readOneOverN('llama', 28, 40);
    data.faithfulness = [
      { label: 'llama seed 28 (paper, n 209)', unmasked: { value: 0.974 }, bars: [
        { set: 'human', value: { value: 0.791 } }, { set: 'self', value: { value: 0.827 } },
        { set: 'LRP top-k', value: { value: 0.816 } }, { set: 'whole text', value: { value: 0.656 } }] },
    ];
    const html = renderReportHtml(data);
    // the best example shown is the first with the highest kappa (example 1 has kappa 1 in the paper's file)
    expect(kappa(rows[0].rationales_human_pre_alignment, rows[0].rationales_model_pre_alignment)).toBe(1);
    expect(html).toContain('SST example 1 (Llama-2-13B');
    expect(html).toContain('print-color-adjust: exact');
    const dir = mkdtempSync(join(tmpdir(), 'rw-report-'));
    const pdf = join(dir, 'report.pdf');
    await htmlToPdf(html, pdf);
    expect(existsSync(pdf)).toBe(true);
    expect(statSync(pdf).size).toBeGreaterThan(10_000);
    expect(pdfPages(pdf)).toBeGreaterThanOrEqual(2);
    const text = pdfText(pdf);
    for (const s of ['Models', 'Datasets', 'Plausibility', 'Faithfulness', 'Examples', 'p0 = 0.974', 'human × self', 'Study configuration']) {
      expect(text).toContain(s);
    }
    // mean kappa over the first 40 Llama-2 examples, as the table prints it
    const mk = rows.map((r) => kappa(r.rationales_human_pre_alignment, r.rationales_model_pre_alignment)).reduce((a, b) => a + b, 0) / rows.length;
    expect(text).toContain(mk.toFixed(2));
    // multilingual text survives into the PDF's text layer
    expect(text).toContain('både');
    expect(text).toContain('rørende');
    expect(text).toContain('così');
    expect(text).toContain('d’amore');
    // pages rasterise (the PNGs are looked at by a person; here they must exist and be non-trivial)
    execFileSync('pdftoppm', ['-png', '-r', '50', pdf, join(dir, 'page')]);
    const pngs = readdirSync(dir).filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBe(pdfPages(pdf));
    for (const p of pngs) expect(statSync(join(dir, p)).size).toBeGreaterThan(5_000);
  });
});
