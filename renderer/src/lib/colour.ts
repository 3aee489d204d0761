/**
 * Diverging colour scale for relevance: blue (negative) – white (0) – red (positive), from
 * ColorBrewer RdBu ends, so sign is readable and zero is neutral. `v` is in [-1, 1].
 */
const NEG = [33, 102, 172];
const POS = [178, 24, 43];

export function diverging(v: number): string {
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  const end = t < 0 ? NEG : POS;
  const a = Math.abs(t);
  const c = end.map((e) => Math.round(255 + (e - 255) * a));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

/** Text colour that stays readable on `diverging(v)`. */
export const inkOn = (v: number) => (Math.abs(v) > 0.55 ? '#fff' : '#1d1f23');

/** Scales values by their largest magnitude (all zeros stay zeros). */
export function normalise(values: number[]): number[] {
  const m = Math.max(0, ...values.map((x) => Math.abs(x)));
  return m === 0 ? values.map(() => 0) : values.map((x) => x / m);
}
