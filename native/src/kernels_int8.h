// 8-bit integer products for quantized weights (the `precision: 'int8'` option of an explanation), as llama.cpp
// computes them: the input (X forward, the gradient G backward) is quantized per token in blocks of 32 along the
// reduction dimension to int8 with one float scale per block (llama.cpp's Q8_0 activations), the weights are
// int8 (or 4-bit) blocks of 32 with a float scale and offset, and each block's dot product is an exact integer
// sum (AVX2 maddubs, AVX-VNNI / AVX512-VNNI dpbusd, NEON dot products, or plain C++), scaled and added in float.
//
// Forward, W x: the weight rows are decoded to their own integers where the type has them along the reduction
// dimension (Q4_K, Q4_0, Q4_1: 4-bit values with the sub-block's scale and min; Q8_0: its int8 bytes) - exact,
// the only error is the input's quantization; other quantized types are decoded to float and requantized to int8
// per 32 columns. Backward, W^T g: the reduction runs over the rows while the weight blocks lie along the columns,
// so a tile of W is decoded to float and requantized per 32 rows (per tile, used by all tokens).
// Every output element is summed by one thread in a fixed order (blocks ascending), so results are bit-identical
// for any thread count; every instruction set computes the same integers (no int16 saturation: |values| <= 127
// on the signed side and <= 128 or <= 15 on the unsigned one) and the same float operations, so all paths give
// the same bits (tests/lrp/int8.test.ts).
#pragma once
#include <cstdint>

#include "kernels.h"

namespace rw {

// the instruction set of the integer dot products; Vnni* are chosen at run time when the CPU has them
enum class Int8Isa { Scalar = 0, Avx2 = 1, AvxVnni = 2, Avx512Vnni = 3, Neon = 4, Best = 99 };
bool int8_isa_available(Int8Isa isa);
Int8Isa int8_best_isa();
const char* int8_isa_name(Int8Isa isa);

// weight types the 8-bit path takes (the quantized ones; F32/F16/BF16 stay float)
bool int8_takes(ggml_type t);

// as matmul_fwd_n / matmul_bwd (kernels.h) in 8-bit integers; false (nothing done) when a weight type is not
// taken, so the caller runs the float kernel
bool matmul_fwd_n_int8(Pool& pool, const FwdProduct* ps, int n, const float* X, int64_t T, Int8Isa isa = Int8Isa::Best);
bool matmul_bwd_int8(Pool& pool, const Weight& W, int64_t e, const float* G, int64_t T, float* GX,
                     Int8Isa isa = Int8Isa::Best);

}  // namespace rw
