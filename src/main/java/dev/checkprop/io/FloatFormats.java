package dev.checkprop.io;

import java.nio.ByteBuffer;

/**
 * Conversions of the floating-point dtypes to float. F16 and BF16 values are all exactly
 * representable as floats, so their conversion is exact: normals, subnormals (an F16 subnormal
 * becomes a normal float), signed zeros and infinities; a NaN stays a NaN with its sign and its
 * payload. An F64 value is rounded to the nearest float (ties to even), as a Java {@code (float)}
 * cast does: values below the float subnormal range round to a zero of the same sign, infinities
 * and NaN stay what they are, and a finite value beyond &plusmn;{@link Float#MAX_VALUE} (after
 * rounding) is reported by {@link #decode} rather than silently made infinite.
 *
 * <p>What is done with non-finite values is the reader's policy, not this class's: the safetensors
 * reader stores them as given and the model and data loaders refuse them, naming the element.
 * {@link #decode} is public for readers of row ranges outside this package (the Spark module's),
 * which must convert exactly as {@link SafeTensors#readAsF32} does.
 */
public final class FloatFormats {

    private FloatFormats() {
    }

    /** Whether {@code dtype} is a floating-point type other than F32, which readers convert to F32. */
    static boolean converts(DType dtype) {
        return dtype == DType.F16 || dtype == DType.BF16 || dtype == DType.F64;
    }

    /** The float equal to the IEEE 754 binary16 value with bits {@code h} (the low 16 bits). */
    static float f16(int h) {
        final int sign = (h & 0x8000) << 16;
        final int exponent = (h >>> 10) & 0x1f;
        final int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            // Infinity (mantissa 0) or NaN, the payload moved to the top of the float's mantissa.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float (at most 10 significant bits).
            final float magnitude = mantissa * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        // Normal: rebias the exponent from 15 to 127 and widen the mantissa from 10 to 23 bits.
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }

    /** The float whose upper 16 bits are {@code b} (the low 16 bits): bfloat16 is a truncated F32. */
    static float bf16(int b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /**
     * Converts {@code n} little-endian elements of {@code dtype} (F32, F16, BF16 or F64) from
     * {@code src}'s current position into {@code dst[off .. off+n)}, advancing {@code src}.
     *
     * @return -1, or the index (0 .. n-1) of the first finite F64 element too large for a float,
     *     whose float in {@code dst} is then infinite
     */
    public static int decode(ByteBuffer src, DType dtype, float[] dst, int off, int n) {
        int overflow = -1;
        switch (dtype) {
            case F32 -> src.asFloatBuffer().get(dst, off, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = f16(src.getShort(src.position() + 2 * i));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[off + i] = bf16(src.getShort(src.position() + 2 * i));
                }
            }
            case F64 -> {
                for (int i = 0; i < n; i++) {
                    final double d = src.getDouble(src.position() + 8 * i);
                    final float f = (float) d;
                    if (Float.isInfinite(f) && !Double.isInfinite(d) && overflow < 0) {
                        overflow = i;
                    }
                    dst[off + i] = f;
                }
            }
            default -> throw new IllegalArgumentException("not a floating-point dtype: " + dtype);
        }
        src.position(src.position() + n * dtype.byteSize());
        return overflow;
    }
}
