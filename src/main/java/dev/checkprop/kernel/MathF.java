package dev.checkprop.kernel;

/**
 * Float elementary functions built only from IEEE operations ({@code +}, {@code *}, {@code /},
 * {@code fma}, comparisons), so that every JVM, JIT tier and vector width gives the same bits.
 * {@link Math#exp} and {@link Math#tanh} may differ between JVM versions and intrinsic stubs, which
 * would break the promise that gradients depend only on the inputs. Accuracy is within a few ulp
 * of the correctly rounded result (tested against {@link StrictMath}).
 *
 * <p>The polynomials are those of the Cephes library's {@code expf} and {@code tanhf}
 * (S. L. Moshier).
 */
public final class MathF {

    private MathF() {
    }

    static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude below 2^22 to an integer (ties to even). */
    static final float ROUND_MAGIC = 12582912f;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float EXP_HI = 88.0f;
    static final float EXP_LO = -87.0f;
    static final float E0 = 1.9875691500E-4f;
    static final float E1 = 1.3981999507E-3f;
    static final float E2 = 8.3334519073E-3f;
    static final float E3 = 4.1665795894E-2f;
    static final float E4 = 1.6666665459E-1f;
    static final float E5 = 5.0000001201E-1f;

    static final float TANH_SMALL = 0.625f;
    static final float TANH_ONE = 9.0f;
    static final float T0 = -5.70498872745E-3f;
    static final float T1 = 2.06390887954E-2f;
    static final float T2 = -5.37397155531E-2f;
    static final float T3 = 1.33314422036E-1f;
    static final float T4 = -3.33332819422E-1f;

    /**
     * e<sup>x</sup>; {@code +Infinity} above 88, 0 below &minus;87 (where the true value is within a
     * factor of two of the smallest normal float), NaN for NaN.
     */
    public static float exp(float x) {
        if (x > EXP_HI) {
            return Float.POSITIVE_INFINITY;
        }
        if (x < EXP_LO) {
            return 0f;
        }
        if (x != x) {
            return x;
        }
        final float t = Math.fma(x, LOG2E, ROUND_MAGIC);
        final float n = t - ROUND_MAGIC;
        final int ni = Float.floatToRawIntBits(t) - 0x4B400000;
        float r = Math.fma(-n, LN2_HI, x);
        r = Math.fma(-n, LN2_LO, r);
        float p = E0;
        p = Math.fma(p, r, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        final float y = Math.fma(p, r * r, r) + 1f;
        return y * Float.intBitsToFloat((ni + 127) << 23);
    }

    /** tanh(x), odd, exactly &plusmn;1 for |x| &ge; 9. */
    public static float tanh(float x) {
        final float z = Math.abs(x);
        if (z >= TANH_ONE) {
            return Math.copySign(1f, x);
        }
        if (z >= TANH_SMALL) {
            final float s = exp(z + z);
            return Math.copySign(1f - 2f / (s + 1f), x);
        }
        final float s = x * x;
        float p = T0;
        p = Math.fma(p, s, T1);
        p = Math.fma(p, s, T2);
        p = Math.fma(p, s, T3);
        p = Math.fma(p, s, T4);
        return Math.fma(p * s, x, x);
    }

    /** The logistic function 1 / (1 + e<sup>&minus;x</sup>). */
    public static float sigmoid(float x) {
        return 1f / (1f + exp(-x));
    }
}
