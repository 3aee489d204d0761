// ggml tensor types this project reads and writes (ids from ggml.h of the pinned llama.cpp release).

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;

export type GgmlTypeName = keyof typeof GgmlType;
export type GgmlTypeId = (typeof GgmlType)[GgmlTypeName];

/** Elements per block and bytes per block (ggml's type traits). Unknown types are not listed. */
export const TYPE_LAYOUT: Record<number, { blockSize: number; typeSize: number }> = {
  [GgmlType.F32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.F16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.BF16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.F64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.I8]: { blockSize: 1, typeSize: 1 },
  [GgmlType.I16]: { blockSize: 1, typeSize: 2 },
  [GgmlType.I32]: { blockSize: 1, typeSize: 4 },
  [GgmlType.I64]: { blockSize: 1, typeSize: 8 },
  [GgmlType.Q4_0]: { blockSize: 32, typeSize: 18 },
  [GgmlType.Q4_1]: { blockSize: 32, typeSize: 20 },
  [GgmlType.Q5_0]: { blockSize: 32, typeSize: 22 },
  [GgmlType.Q5_1]: { blockSize: 32, typeSize: 24 },
  [GgmlType.Q8_0]: { blockSize: 32, typeSize: 34 },
  [GgmlType.Q8_1]: { blockSize: 32, typeSize: 36 },
  [GgmlType.Q2_K]: { blockSize: 256, typeSize: 84 },
  [GgmlType.Q3_K]: { blockSize: 256, typeSize: 110 },
  [GgmlType.Q4_K]: { blockSize: 256, typeSize: 144 },
  [GgmlType.Q5_K]: { blockSize: 256, typeSize: 176 },
  [GgmlType.Q6_K]: { blockSize: 256, typeSize: 210 },
  [GgmlType.Q8_K]: { blockSize: 256, typeSize: 292 },
  [GgmlType.IQ2_XXS]: { blockSize: 256, typeSize: 66 },
  [GgmlType.IQ2_XS]: { blockSize: 256, typeSize: 74 },
  [GgmlType.IQ3_XXS]: { blockSize: 256, typeSize: 98 },
  [GgmlType.IQ1_S]: { blockSize: 256, typeSize: 50 },
  [GgmlType.IQ4_NL]: { blockSize: 32, typeSize: 18 },
  [GgmlType.IQ3_S]: { blockSize: 256, typeSize: 110 },
  [GgmlType.IQ2_S]: { blockSize: 256, typeSize: 82 },
  [GgmlType.IQ4_XS]: { blockSize: 256, typeSize: 136 },
  [GgmlType.IQ1_M]: { blockSize: 256, typeSize: 56 },
  [GgmlType.TQ1_0]: { blockSize: 256, typeSize: 54 },
  [GgmlType.TQ2_0]: { blockSize: 256, typeSize: 66 },
  [GgmlType.MXFP4]: { blockSize: 32, typeSize: 17 },
};

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(GgmlType).map(([k, v]) => [v, k]),
);

export function ggmlTypeName(type: number): string {
  return NAMES[type] ?? `unknown(${type})`;
}

export function ggmlTypeFromName(name: string): GgmlTypeId {
  const key = Object.keys(GgmlType).find((k) => k.toLowerCase() === name.toLowerCase());
  if (key === undefined) throw new Error(`unknown ggml type name "${name}"`);
  return GgmlType[key as GgmlTypeName];
}

/** Weight types the writer can produce (and the project supports end to end). */
export const WRITABLE_TYPES = [
  'F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K',
] as const satisfies readonly GgmlTypeName[];
export type WritableType = (typeof WRITABLE_TYPES)[number];

export function rowBytes(type: number, rowLength: number): number {
  const layout = TYPE_LAYOUT[type];
  if (!layout) throw new Error(`no layout known for ggml type ${ggmlTypeName(type)}`);
  if (rowLength % layout.blockSize !== 0) {
    throw new Error(
      `row length ${rowLength} is not a multiple of ${ggmlTypeName(type)}'s block size ${layout.blockSize}`,
    );
  }
  return (rowLength / layout.blockSize) * layout.typeSize;
}
