/**
 * Relevance vectors are stored as little-endian float32 BLOBs: 4 bytes per token instead of
 * ~10-20 bytes as JSON text, and decoded without parsing.
 */

const littleEndianHost = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export function encodeFloat32(values: Float32Array | readonly number[]): Buffer {
  const arr = values instanceof Float32Array ? values : Float32Array.from(values);
  if (littleEndianHost) {
    // Copy: a Buffer view over the caller's array would alias memory the caller may reuse.
    return Buffer.from(new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  }
  const buf = Buffer.alloc(arr.length * 4);
  for (let i = 0; i < arr.length; i++) buf.writeFloatLE(arr[i], i * 4);
  return buf;
}

export function decodeFloat32(blob: Uint8Array): Float32Array {
  if (blob.byteLength % 4 !== 0) {
    throw new Error(`float32 blob has ${blob.byteLength} bytes, not a multiple of 4`);
  }
  const n = blob.byteLength / 4;
  const out = new Float32Array(n);
  // Go through a DataView: the blob's byteOffset need not be 4-aligned (Node buffer pool).
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
