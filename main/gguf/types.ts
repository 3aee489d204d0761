// GGUF container types shared by the reader and the writer (format: llama.cpp gguf-py / ggml gguf.cpp).

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_DEFAULT_ALIGNMENT = 32;

export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueTypeId = (typeof GgufValueType)[keyof typeof GgufValueType];

/**
 * A metadata array. Numeric items come back as typed arrays (u64/i64 as BigUint64Array/BigInt64Array),
 * strings as string[], bools as boolean[], nested arrays as GgufArray[].
 */
export interface GgufArray {
  itemType: GgufValueTypeId;
  items:
    | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array
    | BigUint64Array | BigInt64Array | string[] | boolean[] | GgufArray[];
}

/** Scalar u64/i64 values are numbers when exactly representable, else bigint. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

export interface GgufKv {
  key: string;
  type: GgufValueTypeId;
  value: GgufValue;
}

export interface GgufTensorInfo {
  name: string;
  /** ggml order: shape[0] is the row length (contiguous dimension). */
  shape: number[];
  type: number;
  /** Offset from the start of the tensor data section. */
  offset: number;
  /** Absolute offset in the file. */
  fileOffset: number;
  nElements: number;
  nBytes: number;
}

export interface GgufFile {
  path: string;
  version: number;
  fileSize: number;
  alignment: number;
  /** Absolute offset where tensor data begins (after header, padded to alignment). */
  dataOffset: number;
  kv: GgufKv[];
  /** Key -> value for convenient lookups. */
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInfo[];
}

export function isGgufArray(v: GgufValue | undefined): v is GgufArray {
  return typeof v === 'object' && v !== null && 'itemType' in v;
}
