package dev.checkprop.kernel;

/**
 * Float elementary functions built only from IEEE operations ({@code +}, {@code *}, {@code /},
 * {@code fma}, comparisons, bit manipulation), so that every JVM, JIT tier and vector width gives the
 * same bits. {@link Math#exp} and {@link Math#tanh} may differ between JVM versions and intrinsic
 * stubs, which would break the promise that gradients depend only on the inputs. Accuracy is within
 * a few ulp of the correctly rounded result (tested against {@link StrictMath} and, for GELU, against
 * an independent double-precision reference).
 *
 * <p>The polynomials of exp and tanh are those of the Cephes library's {@code expf} and {@code tanhf}
 * (S. L. Moshier); GELU's are this project's own (see {@link #gelu}).
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

    // ---------------------------------------------------------------------------------------------
    // GELU. With t = |z|, E = exp(-z^2/2) and Q(t) = Phi(-t) = erfc(t/sqrt 2)/2 (the upper tail):
    //   gelu(-t)   = -E * H(t),   gelu(t)   = t - E * H(t),   H(t) = t Q(t) e^(t^2/2)
    //   gelu'(-t)  = -E * D(t),   gelu'(t)  = 1 + E * D(t),   D(t) = t/sqrt(2 pi) - Q(t) e^(t^2/2)
    //   gelu''(z)  =  E * (2 - z^2) / sqrt(2 pi)
    // H and D are smooth and free of cancellation (D has one simple zero, at t0 = 0.7517915..., the
    // zero of gelu' at z = -t0, which is factored out: D(t) = (t - t0) K(t)). E is computed from the
    // exact square z^2 = s + sl (fma) as 2^n (1 + pr), with the scaling by 2^n applied last, in two
    // exact-or-final steps, so that subnormal results are rounded once. Near 0 plain polynomials in
    // z^2 are used instead (the tail forms lose a little there).

    /** gelu: |z| below this from {@code GS} (a polynomial in z&sup2;), else from H. */
    static final float GELU_SMALL = 0.5f;
    /** gelu': |z| below this from {@code DS} (a polynomial in z&sup2;), else from D. */
    static final float GELU_D_SMALL = 0.25f;
    /** H and K: t below this from a polynomial in t, from here on in u = 1/(1 + t). */
    static final float GELU_MID = 2.5f;
    /** From here on gelu(z) = z and gelu'(z) = 1 (both exact roundings: z Q(z) &lt; 1e-21). */
    static final float GELU_ONE = 10f;
    /**
     * |z| from here on: gelu(z) = gelu'(z) = -0 for negative z and gelu''(z) = -0 for both signs (the
     * exact values are below 1e-46, under half the smallest subnormal; they round to -0 from about
     * |z| = 14.4, 14.6 and 14.9 on).
     */
    static final float GELU_ZERO = 15f;

    /** (Phi(z) - 1/2) / z as a polynomial in z&sup2;, |z| &lt; 0.5 (the constant is 1/sqrt(2 pi)). */
    static final float GS0 = 0.3989423f;
    static final float GS1 = -0.06649038f;
    static final float GS2 = 0.009973657f;
    static final float GS3 = -0.0011887641f;
    static final float GS4 = 0.000123027f;
    static final float GS5 = -2.2662929e-05f;

    /** H(t) as a polynomial in t - GA_C, 0.5 &le; t &lt; 2.5 (the subtraction is exact there). */
    static final float GA_C = 1.4904785f;
    static final float GA0 = 0.30799752f;
    static final float GA1 = 0.07109219f;
    static final float GA2 = -0.037964094f;
    static final float GA3 = 0.01668432f;
    static final float GA4 = -0.006437458f;
    static final float GA5 = 0.002253479f;
    static final float GA6 = -0.00072896876f;
    static final float GA7 = 0.00021701072f;
    static final float GA8 = -6.156533e-05f;
    static final float GA9 = 2.0415177e-05f;
    static final float GA10 = -5.471301e-06f;

    /** H(t) as a polynomial in u - GB_C with u = 1/(1 + t), 2.5 &le; t &lt; 15. */
    static final float GB_C = 0.1735738f;
    static final float GB0 = 0.38327467f;
    static final float GB1 = -0.19589017f;
    static final float GB2 = -0.6537339f;
    static final float GB3 = 0.016915156f;
    static final float GB4 = 1.5569042f;
    static final float GB5 = -1.238726f;
    static final float GB6 = -4.222452f;
    static final float GB7 = 9.823815f;

    /** (gelu'(z) - 1/2) / z as a polynomial in z&sup2;, |z| &lt; 0.25 (the constant is 2/sqrt(2 pi)). */
    static final float DS0 = 0.7978846f;
    static final float DS1 = -0.26596153f;
    static final float DS2 = 0.0598423f;
    static final float DS3 = -0.009528848f;
    static final float DS4 = 0.0014209838f;

    /** The zero t0 of D (gelu'(-t0) = 0) as the unevaluated sum T0_HI + T0_LO. */
    static final float T0_HI = 0.75179154f;
    static final float T0_LO = -1.211445e-08f;

    /** K(t) = D(t) / (t - t0) as a polynomial in t - DA_C, 0.25 &le; t &lt; 2.5. */
    static final float DA_C = 1.361084f;
    static final float DA0 = 0.5316971f;
    static final float DA1 = -0.052417282f;
    static final float DA2 = 0.018891202f;
    static final float DA3 = -0.006310042f;
    static final float DA4 = 0.0019748295f;
    static final float DA5 = -0.0005841992f;
    static final float DA6 = 0.00016411436f;
    static final float DA7 = -4.33106e-05f;
    static final float DA8 = 1.1219318e-05f;
    static final float DA9 = -3.3998383e-06f;
    static final float DA10 = 7.8923574e-07f;

    /** K(t) as a polynomial in u - DB_C with u = 1/(1 + t), 2.5 &le; t &lt; 15. */
    static final float DB_C = 0.18357381f;
    static final float DB0 = 0.45690218f;
    static final float DB1 = 0.32333532f;
    static final float DB2 = -0.003994956f;
    static final float DB3 = -0.23295835f;
    static final float DB4 = 0.1607608f;
    static final float DB5 = 0.31687897f;
    static final float DB6 = -0.73999614f;

    /** 1/sqrt(2 pi) as the unevaluated sum INV_SQRT_2PI_HI + INV_SQRT_2PI_LO. */
    static final float INV_SQRT_2PI_HI = 0.3989423f;
    static final float INV_SQRT_2PI_LO = -1.133517e-08f;

    /**
     * GELU, the exact (erf) form of {@code torch.nn.GELU()}: z &Phi;(z) = z (1 + erf(z/&radic;2)) / 2.
     * Within 2.08 ulp of the exact value for every float, subnormal results included (measured
     * exhaustively below 16 in magnitude against the double-precision reference of the tests; beyond,
     * the results are constants, the exact values rounded; MathFGeluTest checks 2.5). Special values:
     * gelu(+&infin;) = +&infin;, gelu(z) = z from 10 on; gelu(&minus;&infin;) = &minus;0, and &minus;0 from &minus;15
     * down (the exact value is below 1e-48 there; the computed one is &minus;0 from about &minus;14.4 on, as
     * the exact one rounds); gelu(&plusmn;0) = &plusmn;0 (the result always has the sign of z); a NaN is
     * returned as it is (same bits).
     *
     * <p>How: |z| &lt; 0.5 from a polynomial in z&sup2;; beyond, gelu(&minus;t) = &minus;e<sup>&minus;t&sup2;/2</sup> H(t)
     * and gelu(t) = t &minus; e<sup>&minus;t&sup2;/2</sup> H(t) with H(t) = t &Phi;(&minus;t) e<sup>t&sup2;/2</sup>, a smooth
     * function between 0.17 and 0.40, from two polynomials. The negative side never subtracts nearly
     * equal numbers (as 1 + erf would). The coefficients were fitted for relative error (Lawson's
     * iteration, then rounded to float one at a time with the rest refitted; the script
     * src/test/java/dev/checkprop/kernel/gelu_fit.py regenerates them).
     */
    public static float gelu(float z) {
        if (z != z) {
            return z;
        }
        if (z >= GELU_ONE) {
            return z;
        }
        final float t = Math.abs(z);
        if (t >= GELU_ZERO) {
            return -0f;
        }
        final float s = z * z;
        if (t < GELU_SMALL) {
            float p = GS5;
            p = Math.fma(p, s, GS4);
            p = Math.fma(p, s, GS3);
            p = Math.fma(p, s, GS2);
            p = Math.fma(p, s, GS1);
            p = Math.fma(p, s, GS0);
            // z/2 + z^2 p; the sign of z put back (gelu(z) has it): a zero result, from z = -0 or a
            // negative subnormal, is +0 before (the term z^2 p is +0)
            return Math.copySign(Math.fma(z, z * p, 0.5f * z), z);
        }
        final float x = s * -0.5f;
        final float tm = Math.fma(x, LOG2E, ROUND_MAGIC);
        final float pr = expm1Reduced(x, tm - ROUND_MAGIC, Math.fma(z, z, -s));
        final int n = Float.floatToRawIntBits(tm) - 0x4B400000;
        final float h;
        if (t < GELU_MID) {
            final float v = t - GA_C;
            float p = GA10;
            p = Math.fma(p, v, GA9);
            p = Math.fma(p, v, GA8);
            p = Math.fma(p, v, GA7);
            p = Math.fma(p, v, GA6);
            p = Math.fma(p, v, GA5);
            p = Math.fma(p, v, GA4);
            p = Math.fma(p, v, GA3);
            p = Math.fma(p, v, GA2);
            p = Math.fma(p, v, GA1);
            h = Math.fma(p, v, GA0);
        } else {
            final float v = 1f / (t + 1f) - GB_C;
            float p = GB7;
            p = Math.fma(p, v, GB6);
            p = Math.fma(p, v, GB5);
            p = Math.fma(p, v, GB4);
            p = Math.fma(p, v, GB3);
            p = Math.fma(p, v, GB2);
            p = Math.fma(p, v, GB1);
            h = Math.fma(p, v, GB0);
        }
        // e^(-z^2/2) H = 2^n (H + pr H); 2^n = 2^n1 2^n2, the first product exact
        final float w = Math.fma(pr, h, h) * pow2(n >> 1);
        final float s2 = pow2(n - (n >> 1));
        return z < 0f ? -(w * s2) : Math.fma(-w, s2, z);
    }

    /**
     * The derivative of {@link #gelu}: &Phi;(z) + z &phi;(z), &phi;(z) = e<sup>&minus;z&sup2;/2</sup>/&radic;(2&pi;).
     * Within 2.49 ulp of the exact value for every float (measured as for gelu), relative to the value
     * itself even next to its zero at z = &minus;0.7517915: the zero is factored out of the
     * approximation, so the relative error stays bounded there and the absolute error shrinks with
     * the value (below 1e-14 within 1e-7 of the zero, where 2<sup>&minus;24</sup> max|gelu'| is 6.7e-8).
     * Special values: 1 from z = 10 on (and at +&infin;), &minus;0 from &minus;15 down (and at &minus;&infin;), 0.5
     * at &plusmn;0, a NaN returned as it is.
     */
    public static float geluDerivative(float z) {
        if (z != z) {
            return z;
        }
        if (z >= GELU_ONE) {
            return 1f;
        }
        final float t = Math.abs(z);
        if (t >= GELU_ZERO) {
            return -0f;
        }
        final float s = z * z;
        if (t < GELU_D_SMALL) {
            float p = DS4;
            p = Math.fma(p, s, DS3);
            p = Math.fma(p, s, DS2);
            p = Math.fma(p, s, DS1);
            p = Math.fma(p, s, DS0);
            return Math.fma(z, p, 0.5f);
        }
        final float x = s * -0.5f;
        final float tm = Math.fma(x, LOG2E, ROUND_MAGIC);
        final float pr = expm1Reduced(x, tm - ROUND_MAGIC, Math.fma(z, z, -s));
        final int n = Float.floatToRawIntBits(tm) - 0x4B400000;
        final float k;
        if (t < GELU_MID) {
            final float v = t - DA_C;
            float p = DA10;
            p = Math.fma(p, v, DA9);
            p = Math.fma(p, v, DA8);
            p = Math.fma(p, v, DA7);
            p = Math.fma(p, v, DA6);
            p = Math.fma(p, v, DA5);
            p = Math.fma(p, v, DA4);
            p = Math.fma(p, v, DA3);
            p = Math.fma(p, v, DA2);
            p = Math.fma(p, v, DA1);
            k = Math.fma(p, v, DA0);
        } else {
            final float v = 1f / (t + 1f) - DB_C;
            float p = DB6;
            p = Math.fma(p, v, DB5);
            p = Math.fma(p, v, DB4);
            p = Math.fma(p, v, DB3);
            p = Math.fma(p, v, DB2);
            p = Math.fma(p, v, DB1);
            k = Math.fma(p, v, DB0);
        }
        // D = (t - t0) K with t - t0 = dh + dl: dh = t - T0_HI and its rounding error (zero below 1.5,
        // where the subtraction is exact), less T0_LO
        final float dh = t - T0_HI;
        final float dl = ((t - dh) - T0_HI) - T0_LO;
        final float d = Math.fma(dh, k, dl * k);
        final float w = Math.fma(pr, d, d) * pow2(n >> 1);
        final float s2 = pow2(n - (n >> 1));
        return z < 0f ? -(w * s2) : Math.fma(w, s2, 1f);
    }

    /**
     * The second derivative of {@link #gelu}: &phi;(z) (2 &minus; z&sup2;). Within 2.41 ulp of the exact
     * value for every float (measured as for gelu), subnormal results included, relative also next to
     * its zeros at &plusmn;&radic;2 (2 &minus; z&sup2; is one rounding of the exact difference). Special values:
     * &minus;0 from |z| = 15 on (and at &plusmn;&infin;), 2/&radic;(2&pi;) at &plusmn;0, a NaN returned as it is.
     */
    public static float geluSecondDerivative(float z) {
        if (z != z) {
            return z;
        }
        final float t = Math.abs(z);
        if (t >= GELU_ZERO) {
            return -0f;
        }
        final float s = z * z;
        final float x = s * -0.5f;
        final float tm = Math.fma(x, LOG2E, ROUND_MAGIC);
        final float pr = expm1Reduced(x, tm - ROUND_MAGIC, Math.fma(z, z, -s));
        final int n = Float.floatToRawIntBits(tm) - 0x4B400000;
        final float q = Math.fma(-z, z, 2f);
        final float qc = Math.fma(q, INV_SQRT_2PI_HI, q * INV_SQRT_2PI_LO);
        return (Math.fma(pr, qc, qc) * pow2(n >> 1)) * pow2(n - (n >> 1));
    }

    /**
     * e<sup>r</sup> &minus; 1 for the reduced argument r = x &minus; n ln 2 + xl of e<sup>x + xl</sup>, with
     * xl = {@code sl} &times; &minus;1/2 and {@code n} the integer nearest x log<sub>2</sub>e. With x = &minus;s/2 and
     * sl = fma(z, z, &minus;s), x + xl is &minus;z&sup2;/2 exactly, so e<sup>&minus;z&sup2;/2</sup> = 2<sup>n</sup> (1 + the
     * result), free of the rounding of z&sup2; (which would cost up to 50 ulp at |z| = 14). The
     * polynomial is {@link #exp}'s.
     */
    private static float expm1Reduced(float x, float n, float sl) {
        float r = Math.fma(-n, LN2_HI, x);
        r = Math.fma(-n, LN2_LO, r);
        r = Math.fma(sl, -0.5f, r);
        float p = E0;
        p = Math.fma(p, r, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        return Math.fma(p, r * r, r);
    }

    /** 2<sup>e</sup> for &minus;126 &le; e &le; 127. */
    private static float pow2(int e) {
        return Float.intBitsToFloat((e + 127) << 23);
    }
}
