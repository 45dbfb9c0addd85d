package dev.checkprop.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Accuracy of {@link MathF} against an independent reference ({@link StrictMath}, fdlibm, in
 * double), so that the bit-exactness tests, which only compare our two implementations with each
 * other, are anchored to the true functions.
 *
 * <p>Errors are measured in ulps of the <em>exact</em> value (the double reference), using the
 * spacing of floats in the binade of the exact value; that is stricter than comparing with the
 * reference rounded to float (which adds up to half an ulp).
 *
 * <p><b>Bounds.</b>
 * <ul>
 * <li>exp &le; 2 ulp on [&minus;87, 88] (its documented domain). Cephes' expf reduces
 *     {@code x = n ln2 + r} exactly enough (two-part ln2, |r| &le; ln2/2), evaluates a degree-7
 *     polynomial with relative error near 2<sup>&minus;24</sup>, and scales by 2<sup>n</sup> exactly; the
 *     final {@code + 1} and {@code * } round once each: about 1 ulp in total. An exhaustive run over
 *     every float in [&minus;87, 88] found at most 1.010 ulp (at x = &minus;5.8778844).</li>
 * <li>tanh &le; 3 ulp. Below 0.625 an odd polynomial (Cephes' own bound about 1.5 ulp); from
 *     0.625 to 9 the formula 1 &minus; 2/(e<sup>2|x|</sup> + 1): the error of exp (&le; 1.01 ulp) is damped
 *     by the derivative 2/(s+1)<sup>2</sup> &le; 0.1 relative to s, the add, the division and the
 *     subtraction round once each, and the subtraction cannot cancel (its result is above 0.55). An
 *     exhaustive run over [0, 9.5] found at most 1.33 ulp (at 0.62830955, just above the switch).</li>
 * <li>sigmoid &le; 3 ulp where the result is normal or where it is subnormal and x &ge; &minus;88:
 *     1/(1 + e<sup>&minus;x</sup>) adds the exp error (1.01 ulp), the rounding of the sum (up to 1 ulp of
 *     the result once e<sup>&minus;x</sup> nears 2<sup>24</sup>, where the sum's ulp is 1 or 2) and the
 *     division (0.5 ulp). Exhaustively over [&minus;88, 20] at most 2.48 ulp (at &minus;16.635704).</li>
 * </ul>
 * Outside those domains MathF clamps on purpose (documented in MathF): see
 * {@link #clampsAreTheDocumentedOnes()}.
 */
class MathFAccuracyTest {

    private static final int RANDOM_POINTS = 1_000_000;

    /** Distance from {@code got} to {@code exact} in units of the float spacing at {@code exact}. */
    static double ulpError(float got, double exact) {
        if (Double.isInfinite(exact) || Float.isInfinite(got)) {
            return got == exact ? 0 : Double.POSITIVE_INFINITY;
        }
        float r = (float) exact;
        if (Math.abs((double) r) > Math.abs(exact)) {
            // rounded up, possibly into the next binade: use the spacing below
            r = Math.nextDown(Math.abs(r));
        }
        return Math.abs(got - exact) / Math.ulp(r);
    }

    private interface FloatFn {
        float apply(float x);
    }

    /**
     * The worst ulp error over {@link #RANDOM_POINTS} uniform points in [lo, hi] and over 4096
     * consecutive floats on both sides of every boundary point.
     *
     * @return {worst error, x where it occurs}
     */
    private static double[] worst(FloatFn f, DoubleUnaryOperator ref, float lo, float hi, long seed,
                                  float... boundaries) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double worst = 0;
        float at = Float.NaN;
        for (int t = 0; t < RANDOM_POINTS; t++) {
            float x = (float) (lo + (hi - (double) lo) * rnd.nextDouble());
            double e = ulpError(f.apply(x), ref.applyAsDouble(x));
            if (!(e <= worst)) {
                worst = e;
                at = x;
            }
        }
        for (float b : boundaries) {
            float x = b;
            for (int t = 0; t < 4096; t++) {
                x = Math.nextDown(x);
            }
            for (int t = 0; t < 8192; t++, x = Math.nextUp(x)) {
                if (x < lo || x > hi) {
                    continue;
                }
                double e = ulpError(f.apply(x), ref.applyAsDouble(x));
                if (!(e <= worst)) {
                    worst = e;
                    at = x;
                }
            }
        }
        return new double[] {worst, at};
    }

    @Test
    void expWithinTwoUlpOnItsDomain() {
        double[] w = worst(MathF::exp, StrictMath::exp, -87f, 88f, 31,
                -87f, -5.8778844f, -1f, 0f, 1f, 0.34657359f, -0.34657359f, 10f, 44f, 88f);
        assertTrue(w[0] <= 2, () -> "exp error " + w[0] + " ulp at " + (float) w[1]);
        // and against the reference rounded to float, as a plain float comparison
        for (float x : new float[] {-87f, -50.5f, -1e-7f, 0f, 1e-7f, 0.5f, 1f, 10f, 88f}) {
            float r = (float) StrictMath.exp(x);
            assertTrue(Math.abs(MathF.exp(x) - r) <= 2 * Math.ulp(r), "exp " + x);
        }
    }

    @Test
    void tanhWithinThreeUlp() {
        double[] w = worst(MathF::tanh, StrictMath::tanh, -10f, 10f, 32,
                0f, MathF.TANH_SMALL, -MathF.TANH_SMALL, 0.62830955f, MathF.TANH_ONE, -MathF.TANH_ONE, 1f,
                Float.MIN_NORMAL, 1e-20f);
        double[] small = worst(MathF::tanh, StrictMath::tanh, -1f, 1f, 33);
        assertTrue(w[0] <= 3, () -> "tanh error " + w[0] + " ulp at " + (float) w[1]);
        assertTrue(small[0] <= 3, () -> "tanh error " + small[0] + " ulp at " + (float) small[1]);
        // odd, exactly +-1 from 9 on, identity on subnormals
        assertEquals(1f, MathF.tanh(9f));
        assertEquals(-1f, MathF.tanh(-9f));
        assertEquals(1f, MathF.tanh(Float.POSITIVE_INFINITY));
        assertEquals(Float.MIN_VALUE, MathF.tanh(Float.MIN_VALUE));
        // Numerically zero. Note: MathF.tanh(-0f) is +0f, not -0f: fma(p*s, x, x) with s = +0 and
        // p < 0 is fma(-0, -0, -0) = +0 - 0 = +0 (Cephes' C code does the same). Harmless; reported.
        assertEquals(0f, MathF.tanh(-0f), 0f);
        assertEquals(Float.floatToRawIntBits(-Float.MIN_VALUE), Float.floatToRawIntBits(MathF.tanh(-Float.MIN_VALUE)));
        assertTrue(Float.isNaN(MathF.tanh(Float.NaN)));
    }

    @Test
    void sigmoidWithinThreeUlp() {
        DoubleUnaryOperator ref = x -> 1 / (1 + StrictMath.exp(-x));
        double[] w = worst(MathF::sigmoid, ref, -88f, 20f, 34,
                -88f, -87.33655f, -87f, -16.635704f, -1f, 0f, 1f, 7.859211f, 16.6f, 17.4f);
        assertTrue(w[0] <= 3, () -> "sigmoid error " + w[0] + " ulp at " + (float) w[1]);
        assertEquals(1f, MathF.sigmoid(20f));
        assertEquals(0.5f, MathF.sigmoid(0f));
        assertTrue(Float.isNaN(MathF.sigmoid(Float.NaN)));
    }

    /**
     * Where MathF deliberately departs from the true function (reported, not hidden):
     * exp is +Inf on (88, 88.7228] although e<sup>x</sup> is still a finite float there, and 0 on
     * [&minus;87.3365, &minus;87) although e<sup>x</sup> is still a normal float there; sigmoid therefore
     * gives 0 below &minus;88 where the true value is a subnormal float (below 2<sup>&minus;126</sup>).
     * The test pins these clamps so that a change to them is noticed.
     */
    @Test
    void clampsAreTheDocumentedOnes() {
        assertEquals(Float.POSITIVE_INFINITY, MathF.exp(Math.nextUp(88f)));
        assertEquals(Float.POSITIVE_INFINITY, MathF.exp(88.5f));
        assertTrue(StrictMath.exp(88.5) < Float.MAX_VALUE, "true exp(88.5) is finite");
        assertEquals(0f, MathF.exp(Math.nextDown(-87f)));
        assertEquals(0f, MathF.exp(-87.3f));
        assertTrue(StrictMath.exp(-87.3) > Float.MIN_NORMAL, "true exp(-87.3) is normal");
        assertTrue(MathF.exp(88f) < Float.POSITIVE_INFINITY);
        assertTrue(MathF.exp(-87f) >= Float.MIN_NORMAL);
        assertEquals(Float.POSITIVE_INFINITY, MathF.exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, MathF.exp(Float.NEGATIVE_INFINITY));
        for (float x = -88.01f; x > -120f; x -= 0.37f) {
            assertEquals(0f, MathF.sigmoid(x), "sigmoid " + x);
            assertTrue(1 / (1 + StrictMath.exp(-x)) < Float.MIN_NORMAL, "true sigmoid is subnormal at " + x);
        }
        assertTrue(MathF.sigmoid(-88f) > 0f);
    }
}
