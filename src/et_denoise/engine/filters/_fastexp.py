"""A float32 power of two for numba loops that vectorises (numba's ``np.exp`` calls ``expf`` per value).

2^-w = 2^k · 2^f, for w = x c given as its two factors, with k the integer
nearest to -w and |f| <= 1/2: k is found by subtracting w from 1.5 · 2^23,
which rounds -w to an integer held in the low bits of the difference (one
fused multiply-add, as is f); 2^f is a degree-3 polynomial (the minimax
fit of relative error, 7.48e-5 on [-1/2, 1/2], 7.49e-5 evaluated in float32); and 2^k is
applied by adding k to the exponent bits of 2^f.  Every step is a plain arithmetic or integer
operation without a branch, so a loop over an array runs in SIMD lanes.  For 0 <= w <= 124
the relative error is below 1e-4, the bound diffusion allows its flux (the polynomial's
7.5e-5 and the rounding of the factors of w: at most 9.1e-5 measured, tests/test_diffusion.py);
beyond 124 the result is 2^-124.  Degree 4 (error 2.7e-6) cost diffusion's
exponential conduction 13 % more time.

The rounding constant must not be optimised away: the functions allow
contraction into fused multiply-adds only, not reassociation.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_ROUNDER = np.float32(1.5 * 2**23)  # y + this rounds y to an integer held in the low mantissa bits
_EXP2_MAX = np.float32(124.0)  # 2^k · 2^f stays a normal float
_C0, _C1, _C2, _C3 = (np.float32(c) for c in (  # Remez exchange on the relative error
    0.99992807, 0.69326099, 0.24261112, 0.05517167))


@intrinsic
def float_from_bits(typingctx, bits):  # pragma: no cover - compiled
    """The float32 whose bits are the int32 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _times_power_of_two(typingctx, value, rounded):  # pragma: no cover - compiled
    """``value`` · 2^k, where the float32 ``rounded`` is k + 1.5 · 2^23 (k in its low bits).

    Shifting the bits of ``rounded`` by the 23 mantissa bits leaves k in the
    exponent field, which is added to that of ``value`` (kept normal by the
    caller).
    """
    def codegen(context, builder, signature, args):
        int32 = ir.IntType(32)
        shift = builder.shl(builder.bitcast(args[1], int32), ir.Constant(int32, 23))
        return builder.bitcast(builder.add(builder.bitcast(args[0], int32), shift), ir.FloatType())
    return types.float32(types.float32, types.float32), codegen


@intrinsic
def _minus_product_plus(typingctx, x, c, addend):  # pragma: no cover - compiled
    """``addend - x c``, with one rounding where the machine has fused multiply-adds (``llvm.fmuladd``)."""
    def codegen(context, builder, signature, args):
        float32 = ir.FloatType()
        fmuladd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(float32, [float32] * 3),
                                                 "llvm.fmuladd.f32")
        return builder.call(fmuladd, [builder.fneg(args[0]), args[1], args[2]])
    return types.float32(types.float32, types.float32, types.float32), codegen


@njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath={"contract"})
def exp2_negative_product(x, c):  # pragma: no cover - compiled
    """2^-(x c) in float32 for x >= 0 and c > 0 (relative error < 1e-4 while x c <= 124, 2^-124 beyond).

    The product x c is not rounded: it enters fused multiply-adds.  For
    2^-124 to be reached, 124 / c must be finite.
    """
    x = x if x < _EXP2_MAX / c else _EXP2_MAX / c
    rounded = _minus_product_plus(x, c, _ROUNDER)  # -x c rounded to the integer k, in the low bits
    f = _minus_product_plus(x, c, _ROUNDER - rounded)  # -x c - k
    p = ((_C3 * f + _C2) * f + _C1) * f + _C0
    return _times_power_of_two(p, rounded)
