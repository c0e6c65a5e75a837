"""A float32 ``exp`` for numba loops that vectorises (numba's ``np.exp`` calls ``expf`` per value).

Cephes' single-precision algorithm: exp(x) = 2^k · p(r) with x = k ln 2 + r,
|r| <= ln 2 / 2 and p a degree-7 polynomial; 2^k is built from its bits with
an LLVM bitcast, so every step of a loop over an array runs in SIMD lanes.
For -87 <= x <= 0 the relative error is below 4e-6 (mostly the float32
rounding of x itself); below -87 the result is exp(-87).

References
----------
Moshier, S. L. (1989). Methods and Programs for Mathematical Functions.
Prentice-Hall (the Cephes library, ``expf.c``).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_LOG2E = np.float32(1.4426950408889634)
_LN2_HI = np.float32(0.693359375)
_LN2_LO = np.float32(-2.12194440e-4)
_EXP_MIN = np.float32(-87.0)  # 2^k stays a normal float
_P0, _P1, _P2, _P3, _P4, _P5 = (np.float32(c) for c in (
    1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
    5.0000001201e-1))
_ONE = np.float32(1.0)
_HALF = np.float32(0.5)
_EXP_BIAS = np.int32(127)
_MANTISSA_BITS = np.int32(23)


@intrinsic
def float_from_bits(typingctx, bits):  # pragma: no cover - compiled
    """The float32 whose bits are the int32 ``bits``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@njit(cache=True, nogil=True, inline="always", error_model="numpy", fastmath={"contract"})
def exp_nonpositive(x):  # pragma: no cover - compiled
    """exp(x) in float32 for x <= 0 (relative error < 4e-6 down to -87)."""
    x = x if x > _EXP_MIN else _EXP_MIN
    k = np.floor(x * _LOG2E + _HALF)
    r = x - k * _LN2_HI - k * _LN2_LO
    p = (((((_P0 * r + _P1) * r + _P2) * r + _P3) * r + _P4) * r + _P5) * (r * r) + r + _ONE
    return p * float_from_bits((np.int32(k) + _EXP_BIAS) << _MANTISSA_BITS)
