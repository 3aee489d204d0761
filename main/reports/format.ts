import type { Estimate } from './types';

/** HTML-escapes text for element content and attribute values. */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function fmtNum(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  return x.toFixed(digits);
}

/** "0.56 [0.52, 0.60]" or "0.56" without interval, "–" when undefined. */
export function fmtEstimate(e: Estimate | null | undefined, digits = 2): string {
  if (!e || e.value === null || e.value === undefined) return '–';
  // values far below 0.01 (probabilities of tiny models) would all print as 0.00: use 3 significant digits
  const small = Math.max(Math.abs(e.value), Math.abs(e.ciLow ?? 0), Math.abs(e.ciHigh ?? 0)) < 0.01 && e.value !== 0;
  const f = (x: number) => (small && x !== 0 ? x.toPrecision(3) : fmtNum(x, digits));
  const v = f(e.value);
  if (e.ciLow === null || e.ciLow === undefined || e.ciHigh === null || e.ciHigh === undefined) return v;
  return `${v} [${f(e.ciLow)}, ${f(e.ciHigh)}]`;
}

export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '–';
  return Math.round(n).toLocaleString('en-US');
}

export function fmtParams(n: number | null | undefined): string {
  if (!n) return '–';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} K`;
  return String(n);
}

const clamp01 = (t: number) => (t < 0 ? 0 : t > 1 ? 1 : t);
const mix = (a: number, b: number, t: number) => Math.round(a + (b - a) * t);
const rgb = (r: number, g: number, b: number) => `rgb(${r},${g},${b})`;

/** Sequential white → deep blue, for values in [0,1] after scaling to the domain. */
export function seqColor(t: number): string {
  t = clamp01(t);
  // two-stop ramp: white → mid blue → navy, so both ends stay legible
  if (t < 0.5) {
    const u = t / 0.5;
    return rgb(mix(247, 107, u), mix(251, 174, u), mix(255, 214, u));
  }
  const u = (t - 0.5) / 0.5;
  return rgb(mix(107, 8, u), mix(174, 48, u), mix(214, 107, u));
}

/** Diverging blue (−1) → white (0) → red (+1). */
export function divColor(t: number): string {
  if (!Number.isFinite(t)) t = 0;
  t = t < -1 ? -1 : t > 1 ? 1 : t;
  if (t >= 0) return rgb(mix(255, 214, t), mix(255, 39, t), mix(255, 40, t));
  const u = -t;
  return rgb(mix(255, 33, u), mix(255, 102, u), mix(255, 172, u));
}

/** Whether dark text is readable on the sequential colour at t. */
export function seqTextDark(t: number): boolean {
  return clamp01(t) < 0.55;
}
