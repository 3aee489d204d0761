/**
 * Charts drawn as inline SVG/HTML (no chart library): they print exactly as drawn and need no script.
 */
import { divColor, esc, fmtEstimate, fmtNum, seqColor, seqTextDark } from './format';
import type { ExampleView, FaithfulnessGroup, FlippingCurves, PlausibilityHeatmap, RelevanceLocationRow, SelfConsistencyGroup } from './types';

// max-width: a chart wider than the printable page scales down instead of being cut off at the margin
const FONT = `font-family="DejaVu Sans, sans-serif" style="max-width:100%;height:auto"`;

/** Pairs of sources (rows) x models (columns), cells coloured by the metric, mean and interval written in. */
export function plausibilityHeatmapSvg(h: PlausibilityHeatmap): string {
  const [lo, hi] = h.domain ?? [-0.2, 1];
  const labelW = Math.max(110, 7 * Math.max(...h.rows.map((r) => r.length), 4));
  // column labels ("model · dataset · seed") go on one line per part, so four runs fit an A4 page
  const heads = h.columns.map((c) => c.split(' · '));
  const cellW = Math.max(96, 7.5 * Math.max(...heads.flat().map((c) => c.length), 4) + 16);
  const cellH = 40;
  const lines = Math.max(1, ...heads.map((x) => x.length));
  const headH = 20 + 13 * lines;
  const legendH = 42;
  const width = labelW + cellW * h.columns.length + 8;
  const height = headH + cellH * h.rows.length + legendH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="${esc(h.title)}">`);
  heads.forEach((hs, j) => {
    const x = labelW + cellW * j + cellW / 2;
    const y0 = headH - 10 - 13 * (hs.length - 1);
    const spans = hs.map((t, k) => `<tspan x="${x}" y="${y0 + 13 * k}">${esc(t)}</tspan>`).join('');
    parts.push(`<text font-size="11" text-anchor="middle" font-weight="bold">${spans}</text>`);
  });
  h.rows.forEach((r, i) => {
    const y = headH + cellH * i;
    parts.push(`<text x="${labelW - 8}" y="${y + cellH / 2 + 4}" font-size="11" text-anchor="end">${esc(r)}</text>`);
    h.columns.forEach((_, j) => {
      const e = h.values[i]?.[j] ?? null;
      const x = labelW + cellW * j;
      if (!e || e.value === null || e.value === undefined) {
        parts.push(`<rect x="${x}" y="${y}" width="${cellW}" height="${cellH}" fill="#eeeeee" stroke="#fff" stroke-width="2"/>`);
        parts.push(`<text x="${x + cellW / 2}" y="${y + cellH / 2 + 4}" font-size="11" text-anchor="middle" fill="#888">n/a</text>`);
        return;
      }
      const t = (e.value - lo) / (hi - lo);
      const fill = seqColor(t);
      const ink = seqTextDark(t) ? '#111' : '#fff';
      parts.push(`<rect x="${x}" y="${y}" width="${cellW}" height="${cellH}" fill="${fill}" stroke="#fff" stroke-width="2"/>`);
      parts.push(`<text x="${x + cellW / 2}" y="${y + 17}" font-size="13" font-weight="bold" text-anchor="middle" fill="${ink}">${fmtNum(e.value)}</text>`);
      if (e.ciLow !== null && e.ciLow !== undefined && e.ciHigh !== null && e.ciHigh !== undefined) {
        parts.push(`<text x="${x + cellW / 2}" y="${y + 32}" font-size="9" text-anchor="middle" fill="${ink}">[${fmtNum(e.ciLow)}, ${fmtNum(e.ciHigh)}]${e.n ? ` n=${e.n}` : ''}</text>`);
      } else if (e.n) {
        parts.push(`<text x="${x + cellW / 2}" y="${y + 32}" font-size="9" text-anchor="middle" fill="${ink}">n=${e.n}</text>`);
      }
    });
  });
  // colour legend
  const ly = headH + cellH * h.rows.length + 12;
  const lw = Math.min(240, width - labelW - 10);
  const steps = 24;
  for (let k = 0; k < steps; k++) {
    parts.push(`<rect x="${labelW + (lw * k) / steps}" y="${ly}" width="${lw / steps + 0.5}" height="10" fill="${seqColor(k / (steps - 1))}"/>`);
  }
  parts.push(`<text x="${labelW - 8}" y="${ly + 9}" font-size="10" text-anchor="end">${esc(h.metric)}</text>`);
  parts.push(`<text x="${labelW}" y="${ly + 24}" font-size="9">${fmtNum(lo)}</text>`);
  parts.push(`<text x="${labelW + lw}" y="${ly + 24}" font-size="9" text-anchor="end">${fmtNum(hi)}</text>`);
  parts.push('</svg>');
  return parts.join('');
}

const SET_COLORS: Record<string, string> = {
  random: '#9e9e9e',
  human: '#2e7d32',
  self: '#1565c0',
  'self-explanation': '#1565c0',
  lrp: '#c62828',
  'lrp top-k': '#c62828',
  'lrp-contrast': '#ef6c00',
  occlusion: '#6a1b9a',
  'whole text': '#424242',
};
const setColor = (s: string, i: number) =>
  SET_COLORS[s.toLowerCase()] ?? ['#00838f', '#8d6e63', '#5e35b1', '#f9a825'][i % 4];

/**
 * Horizontal bars: probability of the original answer token after masking each set, with its interval,
 * and a dashed line at the unmasked probability p0 (the paper's faithfulness figure).
 */
export function faithfulnessSvg(groups: FaithfulnessGroup[]): string {
  // a model that puts little mass on its answer (tiny demo models) would draw invisible bars on [0, 1]:
  // the axis then ends at a round value above the largest probability, and the caption says so
  const all = groups.flatMap((g) => [g.unmasked.value ?? 0, ...g.bars.flatMap((b) => [b.value.value ?? 0, b.value.ciHigh ?? 0])]);
  const axisMax = niceMax(Math.max(0, ...all));
  return intervalBarsSvg({
    aria: 'faithfulness', labelW: 130, plotW: 380, rightW: 200, groupGap: 30, top: 20, axisMax,
    tick: sig,
    caption: axisMax < 1 ? `axis zoomed to 0–${sig(axisMax)}` : undefined,
    groups: groups.map((g) => ({
      label: g.label,
      bars: g.bars.map((b, i) => ({ name: b.set, value: b.value, colour: setColor(b.set, i), text: sigEstimate(b.value) })),
      marker: g.unmasked.value === null || g.unmasked.value === undefined ? undefined : { value: g.unmasked.value, label: `p0 = ${sig(g.unmasked.value)}` },
    })),
  });
}

/** 1, or the smallest of 1/2/5 x 10^k at or above x (for a zoomed probability axis). */
export function niceMax(x: number): number {
  if (!(x > 0) || x > 0.5) return 1;
  const e = Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * 10 ** e >= x) return Math.min(1, m * 10 ** e);
  return 1;
}
/** Three significant digits (probabilities of tiny models are far below 0.01). */
export function sig(x: number): string {
  if (x === 0) return '0';
  return Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toPrecision(3);
}
function sigEstimate(e: { value: number | null; ciLow?: number | null; ciHigh?: number | null }): string {
  if (e.value === null) return '–';
  return e.ciLow !== null && e.ciLow !== undefined && e.ciHigh !== null && e.ciHigh !== undefined ? `${sig(e.value)} [${sig(e.ciLow)}, ${sig(e.ciHigh)}]` : sig(e.value);
}

const LOC_COLORS: Record<string, string> = {
  bos: '#212121',
  'chat-format': '#9e9e9e',
  'option-letter': '#ad1457',
  'option-label': '#ef6c00',
  text: '#2e7d32',
  instruction: '#1565c0',
  options: '#ef6c00',
  template: '#9e9e9e',
  answer: '#6a1b9a',
};

/** Stacked bars: the share of absolute relevance on each prompt segment. */
export function relevanceLocationSvg(rows: RelevanceLocationRow[]): string {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.shares)))];
  const labelW = Math.min(330, Math.max(120, 6.2 * Math.max(...rows.map((r) => r.label.length), 10)));
  const plotW = 380;
  const barH = 18;
  const height = 30 + rows.length * (barH + 8) + 10;
  // the legend starts at the left edge (seven token roles do not fit beside the labels) and widens the chart if needed
  const legendW = keys.reduce((a, k) => a + 24 + 7 * k.length, 4);
  const width = Math.max(labelW + plotW + 20, legendW + 4);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="relevance location">`);
  let lx = 4;
  keys.forEach((k, i) => {
    const c = LOC_COLORS[k] ?? ['#00838f', '#8d6e63', '#5e35b1'][i % 3];
    parts.push(`<rect x="${lx}" y="4" width="10" height="10" fill="${c}"/><text x="${lx + 14}" y="13" font-size="10">${esc(k)}</text>`);
    lx += 24 + 7 * k.length;
  });
  rows.forEach((r, i) => {
    const y = 24 + i * (barH + 8);
    parts.push(`<text x="${labelW - 6}" y="${y + barH - 5}" font-size="10" text-anchor="end">${esc(r.label)}</text>`);
    let x = labelW;
    keys.forEach((k, j) => {
      const s = r.shares[k] ?? 0;
      const w = Math.max(0, s) * plotW;
      const c = LOC_COLORS[k] ?? ['#00838f', '#8d6e63', '#5e35b1'][j % 3];
      parts.push(`<rect x="${x}" y="${y}" width="${w}" height="${barH}" fill="${c}"><title>${esc(k)} ${(s * 100).toFixed(1)} %</title></rect>`);
      if (w > 34) parts.push(`<text x="${x + w / 2}" y="${y + barH - 5}" font-size="9" fill="#fff" text-anchor="middle">${(s * 100).toFixed(0)}%</text>`);
      x += w;
    });
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * The example's text once per source, each unit (word or model token) shaded by that source's value:
 * binary masks in one colour, signed relevance blue→red scaled by the example's largest |value|.
 * Text between units (spaces, punctuation outside units) is kept as is, so the text reads normally.
 */
export function tokenHeatmapHtml(ex: ExampleView): string {
  const order = ex.units.map((u, i) => ({ ...u, i })).sort((a, b) => a.start - b.start || a.end - b.end);
  const rows = ex.sources.map((src) => {
    const maxAbs = Math.max(1e-12, ...src.values.map((v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
    let pos = 0;
    const out: string[] = [];
    for (const u of order) {
      if (u.start < pos) continue; // overlapping units: keep the first
      if (u.start > pos) out.push(esc(ex.text.slice(pos, u.start)));
      const v = src.values[u.i] ?? 0;
      const piece = esc(ex.text.slice(u.start, u.end));
      let bg: string;
      if (src.kind === 'binary') bg = v > 0 ? 'rgb(255,193,7)' : 'transparent';
      else if (src.kind === 'positive') bg = divColor(Math.max(0, v) / maxAbs);
      else bg = divColor(v / maxAbs);
      const title = src.kind === 'binary' ? (v > 0 ? 'selected' : '') : fmtNum(v, 3);
      out.push(`<span class="tok${src.kind === 'binary' && v > 0 ? ' sel' : ''}" style="background:${bg}" title="${esc(title)}">${piece}</span>`);
      pos = u.end;
    }
    if (pos < ex.text.length) out.push(esc(ex.text.slice(pos)));
    return `<tr><th>${esc(src.name)}</th><td class="toktext">${out.join('')}</td></tr>`;
  });
  return `<table class="tokheat">${rows.join('')}</table>`;
}

const FLIP_COLORS = ['#1565c0', '#c62828', '#2e7d32', '#ef6c00', '#6a1b9a', '#757575'];

/**
 * k-greedy flipping curves of one run: the mean probability of the answer token (y, 0 to 1) against the
 * share of the text flipped (x, 0 to 1), one line per method, with a legend. The y axis is zoomed to the
 * curves' largest value (niceMax), as the faithfulness bars are: a tiny model's probabilities are far below 1.
 */
export function flippingSvg(g: FlippingCurves): string {
  const left = 52;
  const top = 26;
  const plotW = 320;
  const plotH = 180;
  const width = left + plotW + 190;
  const height = top + plotH + 40;
  const yMax = niceMax(Math.max(0, ...g.curves.flatMap((c) => c.p.filter(Number.isFinite))));
  const X = (x: number) => left + x * plotW;
  const Y = (p: number) => top + (1 - p / yMax) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="k-greedy flipping ${esc(g.label)}">`);
  parts.push(`<text x="${left}" y="14" font-size="11" font-weight="bold">${esc(g.label)} · k = ${g.k}</text>`);
  for (const t of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line x1="${X(0)}" x2="${X(1)}" y1="${Y(t * yMax)}" y2="${Y(t * yMax)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 4}" y="${Y(t * yMax) + 3}" font-size="9" text-anchor="end">${sig(t * yMax)}</text>`);
    parts.push(`<text x="${X(t)}" y="${top + plotH + 13}" font-size="9" text-anchor="middle">${Math.round(t * 100)}%</text>`);
  }
  parts.push(`<rect x="${X(0)}" y="${Y(yMax)}" width="${plotW}" height="${plotH}" fill="none" stroke="#9e9e9e"/>`);
  parts.push(`<text x="${X(0.5)}" y="${top + plotH + 30}" font-size="10" text-anchor="middle">share of the text flipped (most relevant first)</text>`);
  parts.push(`<text x="10" y="${Y(0.5)}" font-size="10" text-anchor="middle" transform="rotate(-90 10 ${Y(0.5)})">p(answer)</text>`);
  g.curves.forEach((c, i) => {
    const color = FLIP_COLORS[i % FLIP_COLORS.length];
    const pts = c.x.flatMap((x, j) => (Number.isFinite(c.p[j]) ? [`${X(x).toFixed(1)},${Y(c.p[j]).toFixed(1)}`] : []));
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    const ly = top + 8 + i * 16;
    parts.push(`<line x1="${left + plotW + 14}" x2="${left + plotW + 34}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${left + plotW + 40}" y="${ly + 4}" font-size="10">${esc(c.method)} (n=${c.n})</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

const SC_COLORS: Record<string, string> = { Redaction: '#1565c0', Counterfactual: '#2e7d32', 'Biasing feature': '#c62828' };

/**
 * Self-consistency tests: per column (run or pooled model) one bar per test, its headline share on a fixed
 * 0–1 axis (shares, never zoomed), with the 95 % interval as whiskers and the value and n written beside it.
 */
export function selfConsistencySvg(groups: SelfConsistencyGroup[]): string {
  return intervalBarsSvg({
    aria: 'self-consistency tests', labelW: 210, plotW: 300, rightW: 170, groupGap: 26, top: 14, axisMax: 1,
    tick: (f) => `${Math.round(f * 100)}%`,
    groups: groups.map((g) => ({
      label: g.label,
      bars: g.bars.map((b) => ({
        name: `${b.test}: ${b.what}`, value: b.value, colour: SC_COLORS[b.test] ?? '#757575',
        text: `${sigEstimate(b.value)}${b.value.n ? ` n=${b.value.n}` : ''}`,
      })),
    })),
  });
}

/** One bar of an interval bar chart: its label, estimate (bar + whiskers), colour and the text written beside it. */
interface IntervalBar {
  name: string;
  value: { value: number | null; ciLow?: number | null; ciHigh?: number | null };
  colour: string;
  text: string;
}
interface IntervalBarChart {
  aria: string;
  /** Widths of the label column, the plot, and the value text on the right. */
  labelW: number;
  plotW: number;
  rightW: number;
  /** Space above each group's bars (its title sits in it); y of the first group's title. */
  groupGap: number;
  top: number;
  /** The axis runs 0..axisMax, ticks at each quarter, written by `tick`; `caption` is written at the top right. */
  axisMax: number;
  tick: (v: number) => string;
  caption?: string;
  /** Groups of bars, each titled; `marker` draws a dashed reference line over the group (faithfulness' p0). */
  groups: { label: string; bars: IntervalBar[]; marker?: { value: number; label: string } }[];
}

/**
 * Grouped horizontal bars with 95 % interval whiskers: the layout the faithfulness and self-consistency figures
 * share (bars of 16 px, 6 px apart; values outside the axis clamped to it; a missing estimate written "n/a").
 */
function intervalBarsSvg(c: IntervalBarChart): string {
  const { labelW, plotW, groupGap, axisMax } = c;
  const barH = 16;
  const gap = 6;
  let height = c.top + 8;
  for (const g of c.groups) height += groupGap + g.bars.length * (barH + gap);
  height += 24;
  const width = labelW + plotW + c.rightW;
  const xOf = (p: number) => labelW + (Math.max(0, Math.min(axisMax, p)) / axisMax) * plotW;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} role="img" aria-label="${esc(c.aria)}">`);
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const p = f * axisMax;
    parts.push(`<line x1="${xOf(p)}" y1="${c.top - 6}" x2="${xOf(p)}" y2="${height - 18}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${xOf(p)}" y="${height - 6}" font-size="9" text-anchor="middle">${c.tick(p)}</text>`);
  }
  if (c.caption) parts.push(`<text x="${labelW + plotW}" y="12" font-size="9" text-anchor="end" fill="#b71c1c">${esc(c.caption)}</text>`);
  let y = c.top;
  for (const g of c.groups) {
    parts.push(`<text x="4" y="${y + 4}" font-size="11" font-weight="bold">${esc(g.label)}</text>`);
    y += groupGap - 8;
    const top = y;
    for (const b of g.bars) {
      const v = b.value.value;
      parts.push(`<text x="${labelW - 6}" y="${y + barH - 4}" font-size="10" text-anchor="end">${esc(b.name)}</text>`);
      if (v !== null && v !== undefined) {
        parts.push(`<rect x="${labelW}" y="${y}" width="${xOf(v) - labelW}" height="${barH}" fill="${b.colour}" fill-opacity="0.85"/>`);
        const { ciLow, ciHigh } = b.value;
        if (ciLow !== null && ciLow !== undefined && ciHigh !== null && ciHigh !== undefined) {
          const cy = y + barH / 2;
          parts.push(`<line x1="${xOf(ciLow)}" y1="${cy}" x2="${xOf(ciHigh)}" y2="${cy}" stroke="#111" stroke-width="1.2"/>`);
          parts.push(`<line x1="${xOf(ciLow)}" y1="${cy - 4}" x2="${xOf(ciLow)}" y2="${cy + 4}" stroke="#111"/>`);
          parts.push(`<line x1="${xOf(ciHigh)}" y1="${cy - 4}" x2="${xOf(ciHigh)}" y2="${cy + 4}" stroke="#111"/>`);
        }
        parts.push(`<text x="${labelW + plotW + 6}" y="${y + barH - 4}" font-size="10">${esc(b.text)}</text>`);
      } else {
        parts.push(`<text x="${labelW + 4}" y="${y + barH - 4}" font-size="10" fill="#888">n/a</text>`);
      }
      y += barH + gap;
    }
    if (g.marker) {
      const m = g.marker.value;
      parts.push(`<line x1="${xOf(m)}" y1="${top - 4}" x2="${xOf(m)}" y2="${y - gap + 2}" stroke="#000" stroke-width="1.5" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${xOf(m)}" y="${top - 6}" font-size="9" text-anchor="middle">${esc(g.marker.label)}</text>`);
    }
    y += 8;
  }
  parts.push('</svg>');
  return parts.join('');
}
