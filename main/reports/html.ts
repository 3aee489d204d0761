/**
 * ReportData → one self-contained HTML document (inline CSS and SVG), printable by Chromium.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { faithfulnessSvg, flippingSvg, plausibilityHeatmapSvg, relevanceLocationSvg, selfConsistencySvg, tokenHeatmapHtml } from './charts';
import { divColor, esc, fmtEstimate, fmtInt, fmtParams } from './format';
import type { ReportData } from './types';

/** The stylesheet shipped in resources/report/ (read once). */
export function reportCss(): string {
  const file = fileURLToPath(new URL('../../resources/report/report.css', import.meta.url));
  return readFileSync(file, 'utf8');
}

export function renderReportHtml(data: ReportData): string {
  const s: string[] = [];
  s.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>`);
  s.push(`<style>${reportCss()}</style></head><body>`);
  s.push(`<h1>${esc(data.title)}</h1>`);
  s.push(
    `<div class="sub">Study “${esc(data.study.name)}”${data.study.id ? ` (id ${data.study.id})` : ''} · generated ${esc(data.generatedAt)} · Rationale Workbench ${esc(data.appVersion)}</div>`,
  );

  // Models
  s.push(`<h2>Models</h2><table><thead><tr><th>name</th><th>architecture</th><th class="num">parameters</th><th>quantization</th><th class="num">context</th><th>sha256</th></tr></thead><tbody>`);
  for (const m of data.models) {
    s.push(
      `<tr><td>${esc(m.name)}<div class="mono">${esc(m.path)}</div></td><td>${esc(m.architecture ?? '–')}</td><td class="num">${fmtParams(m.parameterCount)}</td><td>${esc(m.quantization ?? '–')}</td><td class="num">${fmtInt(m.contextLength)}</td><td class="mono">${esc(m.sha256)}</td></tr>`,
    );
  }
  s.push(`</tbody></table>`);

  // Datasets
  s.push(`<h2>Datasets</h2><table><thead><tr><th>name</th><th>format</th><th>language</th><th class="num">examples</th><th class="num">with rationale</th><th>source sha256</th></tr></thead><tbody>`);
  for (const d of data.datasets) {
    s.push(
      `<tr><td>${esc(d.name)}<div class="mono">${esc(d.sourcePath)}</div></td><td>${esc(d.format)}</td><td>${esc(d.language ?? 'mixed')}</td><td class="num">${fmtInt(d.examples)}</td><td class="num">${fmtInt(d.withRationale)}</td><td class="mono">${esc(d.sha256)}</td></tr>`,
    );
  }
  s.push(`</tbody></table>`);

  // Runs and skips
  if (data.runs.length) {
    const reasons = [...new Set(data.runs.flatMap((r) => Object.keys(r.skipped)))].sort();
    s.push(`<h2>Runs</h2><table><thead><tr><th class="num">run</th><th>model</th><th>dataset</th><th class="num">seed</th><th>status</th><th class="num">done / total</th><th class="num">accuracy</th>`);
    // skip reasons can be long ("self-explanation: SyntaxError"): their headers wrap instead of pushing the table off the page
    for (const r of reasons) s.push(`<th class="num" style="white-space:normal">skipped: ${esc(r)}</th>`);
    s.push(`</tr></thead><tbody>`);
    for (const r of data.runs) {
      s.push(
        `<tr><td class="num">${r.id}</td><td>${esc(r.model)}</td><td>${esc(r.dataset)}</td><td class="num">${r.seed}</td><td>${esc(r.status)}</td><td class="num">${r.done} / ${r.total}</td><td class="num">${fmtEstimate(r.accuracy ?? null)}</td>`,
      );
      for (const k of reasons) s.push(`<td class="num">${r.skipped[k] ?? 0}</td>`);
      s.push(`</tr>`);
    }
    s.push(`</tbody></table>`);
  }

  // Method: the conventions that differ from the paper and ERASER, before any figure
  if (data.method && data.method.length) {
    s.push(`<h2>Method</h2><p class="caption">Where this report’s conventions differ from the paper (Brandl &amp; Eberle) or from ERASER (DeYoung et al. 2020).</p><dl class="method">`);
    for (const m of data.method) s.push(`<dt>${esc(m.topic)}</dt><dd>${esc(m.text)}</dd>`);
    s.push(`</dl>`);
  }

  // Plausibility heatmap
  if (data.heatmap && data.heatmap.rows.length && data.heatmap.columns.length) {
    s.push(`<div class="figure"><h2>${esc(data.heatmap.title)}</h2>${plausibilityHeatmapSvg(data.heatmap)}</div>`);
  }

  // Metric tables
  for (const t of data.tables) {
    s.push(`<h3>${esc(t.title)}</h3>`);
    if (t.caption) s.push(`<p class="caption">${esc(t.caption)}</p>`);
    // several runs side by side: column labels break at " · " and n goes under the estimate, so the
    // nowrap number cells stay inside the page width
    const many = t.columns.length > 2;
    const head = (c: string) => (many ? c.split(' · ').map(esc).join('<br>') : esc(c));
    s.push(`<table class="metrics"><thead><tr><th></th>${t.columns.map((c) => `<th class="num">${head(c)}</th>`).join('')}</tr></thead><tbody>`);
    for (const r of t.rows) {
      s.push(`<tr><th>${esc(r.label)}</th>${r.cells.map((c) => `<td class="num">${esc(fmtEstimate(c))}${c?.n ? `${many ? '<br>' : ' '}<span class="caption">n=${c.n}</span>` : ''}</td>`).join('')}</tr>`);
    }
    s.push(`</tbody></table>`);
  }

  // Faithfulness
  if (data.faithfulness && data.faithfulness.length) {
    // heading, caption and chart kept on one page (the heading alone was left at the foot of the page before)
    s.push(`<div class="figure"><h2>Faithfulness</h2><p class="caption">Probability of the originally generated answer token after masking each set of text tokens at once (mean, 95 % bootstrap interval). The dashed line marks the probability before masking (p0). A faithful explanation's set lowers it more than a random set of the same size.</p>`);
    s.push(`${faithfulnessSvg(data.faithfulness)}</div>`);
  }

  if (data.flipping && data.flipping.length) {
    s.push(`<div class="figure"><h2>k-greedy flipping</h2><p class="caption">Probability of the originally generated answer token while the text's tokens are replaced by the filler token k at a time, in the order of each method's relevance (most relevant first): mean over examples, each example's curve read at every 5 % of its text. A faithful relevance makes the curve fall early; its area is in the table "Faithfulness, k-greedy flipping".</p>`);
    for (const g of data.flipping) s.push(flippingSvg(g));
    s.push(`</div>`);
  }

  if (data.selfConsistency && data.selfConsistency.length) {
    s.push(`<div class="figure"><h2>Self-consistency tests</h2><p class="caption">Share of examples whose answer behaves as the model's own explanation implies: redaction (the named words removed: the answer changes) and counterfactual (the model's own edit gets the answer it was edited for), self-consistent; biasing feature (a hint toward the other answer), unfaithful = the answer follows the hint and the self-explanation does not name it. Mean over examples with 95 % bootstrap interval; all figures in the table “Self-consistency tests”.</p>`);
    s.push(`${selfConsistencySvg(data.selfConsistency)}</div>`);
  }

  if (data.relevanceLocation && data.relevanceLocation.length) {
    s.push(`<div class="figure"><h2>Where relevance lands</h2><p class="caption">Share of the absolute relevance (|R|) and of the positive relevance (R+) on each kind of prompt token (BOS, chat format, instruction, option letters and labels, text), mean over examples; intervals in the table “Where relevance lands”.</p>`);
    s.push(`${relevanceLocationSvg(data.relevanceLocation)}</div>`);
  }

  // Examples
  if (data.examples.length) {
    s.push(`<section class="page"><h2>Examples</h2>`);
    s.push(
      `<p class="legend caption">Binary sources: <span style="background:rgb(255,193,7)">selected</span> Relevance: <span style="background:${divColor(-1)};color:#fff">negative</span><span style="background:${divColor(0)}">0</span><span style="background:${divColor(1)};color:#fff">positive</span> (scaled per example by the largest |value|).</p>`,
    );
    for (const ex of data.examples) {
      s.push(`<div class="example"><div><span class="badge">${esc(ex.reason)}</span><b>${esc(ex.title)}</b></div>`);
      const meta = [
        ex.language ? `language ${esc(ex.language)}` : '',
        ex.gold !== undefined && ex.gold !== null ? `gold ${esc(ex.gold)}` : '',
        ex.prediction !== undefined && ex.prediction !== null ? `prediction ${esc(ex.prediction)}` : '',
        ex.note ? esc(ex.note) : '',
      ].filter(Boolean);
      s.push(`<div class="meta">${meta.join(' · ')}</div>`);
      s.push(tokenHeatmapHtml(ex));
      s.push(`</div>`);
    }
    s.push(`</section>`);
  }

  if (data.notes && data.notes.length) {
    s.push(`<h2>Notes</h2><ul class="notes">${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  }

  s.push(`<h2>Study configuration</h2><pre class="config">${esc(JSON.stringify(data.study.config, null, 2))}</pre>`);
  s.push(`</body></html>`);
  return s.join('\n');
}
