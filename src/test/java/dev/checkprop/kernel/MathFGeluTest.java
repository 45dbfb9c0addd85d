package dev.checkprop.kernel;

import static dev.checkprop.kernel.MathFAccuracyTest.ulpError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Accuracy of {@link MathF#gelu}, {@link MathF#geluDerivative} and {@link MathF#geluSecondDerivative}
 * against {@link GeluReference} (double precision, power series and continued fraction: nothing in
 * common with MathF's polynomials), errors in ulps of the exact value as in {@link MathFAccuracyTest}.
 *
 * <p><b>Bounds</b>: 2.5 ulp for all three, relative, subnormal results included. Measured over every
 * float of magnitude below 16 when they were added (beyond, the results are constants, the exact
 * values rounded): gelu at most 2.079 ulp (at &minus;3.2375424), gelu' 2.484 (at &minus;0.8218992), gelu''
 * 2.402 (at &minus;3.808018). The tests here sample: every 4099th float, random points, and every
 * float near each switch of MathF, each zero and each underflow. gelu' keeps its relative bound next
 * to its zero at &minus;0.7517915 (so its absolute error there is far below 2<sup>&minus;24</sup>
 * max|gelu'|, max|gelu'| = gelu'(&radic;2) = 1.1289), and gelu'' next to its zeros at &plusmn;&radic;2.
 */
class MathFGeluTest {

    private interface FloatFn {
        float apply(float x);
    }

    /** Known values of erf and erfc (to the double nearest, as published) pin the reference itself. */
    @Test
    void referenceMatchesPublishedValues() {
        assertRelative(0.5204998778130465, GeluReference.erf(0.5), 1e-15, "erf(0.5)");
        assertRelative(0.8427007929497149, GeluReference.erf(1), 1e-15, "erf(1)");
        assertRelative(2.209049699858544e-05, GeluReference.erfc(3), 1e-13, "erfc(3)");
        assertRelative(1.5374597944280349e-12, GeluReference.erfc(5), 1e-13, "erfc(5)");
        assertRelative(0.15865525393145707, GeluReference.cdf(-1), 1e-15, "Phi(-1)");
        assertRelative(7.619853024160527e-24, GeluReference.cdf(-10), 1e-13, "Phi(-10)");
        // the series and the continued fraction agree where the reference switches between them
        for (double z : new double[] {-3.0000001, -3, -2.9999999, 2.9999999, 3, 3.0000001}) {
            double series = 0.5 + GeluReference.phi(z) * seriesOf(z);
            assertRelative(series, GeluReference.cdf(z), 1e-12, "Phi at the switch " + z);
        }
        // the Taylor series at the zero of gelu' agrees with the direct formula where it starts
        for (double delta : new double[] {-1e-4, -3e-5, 3e-5, 0.99999e-4}) {
            double z = -GeluReference.T0_HI + delta;
            double direct = GeluReference.cdf(z) + z * GeluReference.phi(z);
            assertRelative(direct, GeluReference.derivative(z), 1e-11, "gelu' near its zero, delta " + delta);
        }
    }

    private static double seriesOf(double z) {
        double term = z;
        double sum = z;
        for (int k = 1; k < 400; k++) {
            term *= z * z / (2 * k + 1);
            sum += term;
        }
        return sum;
    }

    private static void assertRelative(double expected, double got, double tolerance, String what) {
        assertTrue(Math.abs(got - expected) <= tolerance * Math.abs(expected),
                () -> what + ": " + got + ", expected " + expected);
    }

    /**
     * {@code torch.nn.functional.gelu(torch.tensor([-3., -1., -0.5, 0., 0.5, 1., 3.]))} (float32, exact
     * erf form). MathF agrees within 2e-6 relative and is itself within one ulp of the exact value at
     * each point (at &minus;0.5 it is the float next to PyTorch's, &minus;0.15426876 for the exact
     * &minus;0.1542687694); the largest difference, at &minus;3, is PyTorch's error: it computes
     * 1 + erf(&minus;3/&radic;2) in float, a cancellation that costs it 12 ulp there (exact:
     * &minus;0.00404969409489..., PyTorch &minus;0.0040496886, MathF &minus;0.004049694).
     */
    @Test
    void agreesWithPyTorch() {
        float[] z = {-3f, -1f, -0.5f, 0f, 0.5f, 1f, 3f};
        float[] torch = {-0.0040496886f, -0.15865526f, -0.15426877f, 0f, 0.34573123f, 0.8413447f, 2.9959502f};
        for (int j = 0; j < z.length; j++) {
            float got = MathF.gelu(z[j]);
            final int jj = j;
            assertTrue(Math.abs(got - torch[j]) <= 2e-6 * Math.abs(torch[j]),
                    () -> "gelu(" + z[jj] + ") = " + got + ", PyTorch " + torch[jj]);
            double e = ulpError(got, GeluReference.gelu(z[j]));
            assertTrue(e <= 1, () -> "gelu(" + z[jj] + ") = " + got + ", " + e + " ulp");
        }
        assertEquals(-0.004049694f, MathF.gelu(-3f));
    }

    /**
     * The worst ulp error of {@code f} over every {@code stride}-th float below 16 in magnitude (both
     * signs, all binades down to the subnormals), 200,000 uniform points in [&minus;16, 16], and the 2048
     * floats on each side of every point in {@code around}.
     *
     * @return {worst error, z where it occurs}
     */
    private static double[] worst(FloatFn f, DoubleUnaryOperator ref, int stride, long seed, float... around) {
        double[] w = {0, Double.NaN};
        final int top = Float.floatToRawIntBits(16f);
        for (int bits = 0; bits < top; bits += stride) {
            float z = Float.intBitsToFloat(bits);
            record(w, z, f, ref);
            record(w, -z, f, ref);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int k = 0; k < 200_000; k++) {
            record(w, (float) (rnd.nextDouble() * 32 - 16), f, ref);
        }
        for (float c : around) {
            float z = c;
            for (int k = 0; k < 2048; k++) {
                z = Math.nextDown(z);
            }
            for (int k = 0; k < 4096; k++, z = Math.nextUp(z)) {
                record(w, z, f, ref);
            }
        }
        return w;
    }

    private static void record(double[] w, float z, FloatFn f, DoubleUnaryOperator ref) {
        double e = ulpError(f.apply(z), ref.applyAsDouble(z));
        if (!(e <= w[0])) {
            w[0] = e;
            w[1] = z;
        }
    }

    /** MathF's switches (both signs), where the exact results underflow, and the worst points known. */
    private static final float[] SWITCHES = {
        MathF.GELU_SMALL, -MathF.GELU_SMALL, MathF.GELU_D_SMALL, -MathF.GELU_D_SMALL, MathF.GELU_MID,
        -MathF.GELU_MID, MathF.GELU_ONE, -MathF.GELU_ZERO, MathF.GELU_ZERO, 1.5f, -1.5f, -0.7517915f,
        (float) Math.sqrt(2), (float) -Math.sqrt(2), -14.38f, -14.6f, -14.9f, 14.9f, -13.2f, 1e-19f, -1e-19f,
        -3.2375424f, -0.8218992f, -3.808018f,
    };

    @Test
    void geluWithinTwoAndAHalfUlp() {
        double[] w = worst(MathF::gelu, GeluReference::gelu, 4099, 51, SWITCHES);
        assertTrue(w[0] <= 2.5, () -> "gelu error " + w[0] + " ulp at " + (float) w[1]);
    }

    @Test
    void derivativeWithinTwoAndAHalfUlp() {
        double[] w = worst(MathF::geluDerivative, GeluReference::derivative, 4099, 52, SWITCHES);
        assertTrue(w[0] <= 2.5, () -> "gelu' error " + w[0] + " ulp at " + (float) w[1]);
    }

    @Test
    void secondDerivativeWithinTwoAndAHalfUlp() {
        double[] w = worst(MathF::geluSecondDerivative, GeluReference::secondDerivative, 4099, 53, SWITCHES);
        assertTrue(w[0] <= 2.5, () -> "gelu'' error " + w[0] + " ulp at " + (float) w[1]);
    }

    /**
     * Every float within 2<sup>16</sup> floats of the zero of gelu' at &minus;0.7517915: the relative bound
     * holds there too, and so, a fortiori, the absolute error is far below 2<sup>&minus;24</sup> max|gelu'|.
     */
    @Test
    void derivativeNearItsZero() {
        final double maxDerivative = GeluReference.derivative(Math.sqrt(2));
        assertRelative(1.1289, maxDerivative, 1e-4, "max gelu'");
        float z = -0.7517915f;
        for (int k = 0; k < 1 << 16; k++) {
            z = Math.nextDown(z);
        }
        double worstUlp = 0;
        double worstAbs = 0;
        boolean signChange = false;
        float previous = MathF.geluDerivative(z);
        for (int k = 0; k < 1 << 17; k++, z = Math.nextUp(z)) {
            float got = MathF.geluDerivative(z);
            double exact = GeluReference.derivative(z);
            worstUlp = Math.max(worstUlp, ulpError(got, exact));
            worstAbs = Math.max(worstAbs, Math.abs(got - exact) / maxDerivative);
            assertTrue(Math.signum(got) == Math.signum(exact) || exact == 0, "sign at " + z);
            signChange |= previous < 0 && got > 0;
            previous = got;
        }
        final double u = worstUlp;
        final double a = worstAbs;
        assertTrue(u <= 2.5, () -> "gelu' near its zero: " + u + " ulp");
        assertTrue(a <= 0x1p-30, () -> "gelu' near its zero: absolute error " + a + " of max|gelu'|");
        assertTrue(signChange, "gelu' changes sign at its zero");
    }

    @Test
    void specialValues() {
        for (int nanBits : new int[] {0x7FC00000, 0xFFC00000, 0x7FC0BEEF, 0xFFFFFFFF}) {
            float nan = Float.intBitsToFloat(nanBits);
            assertEquals(nanBits, Float.floatToRawIntBits(MathF.gelu(nan)), "gelu keeps the NaN");
            assertEquals(nanBits, Float.floatToRawIntBits(MathF.geluDerivative(nan)), "gelu' keeps the NaN");
            assertEquals(nanBits, Float.floatToRawIntBits(MathF.geluSecondDerivative(nan)), "gelu'' keeps the NaN");
        }
        assertBits(Float.POSITIVE_INFINITY, MathF.gelu(Float.POSITIVE_INFINITY));
        assertBits(-0f, MathF.gelu(Float.NEGATIVE_INFINITY));
        assertBits(1f, MathF.geluDerivative(Float.POSITIVE_INFINITY));
        assertBits(-0f, MathF.geluDerivative(Float.NEGATIVE_INFINITY));
        assertBits(-0f, MathF.geluSecondDerivative(Float.POSITIVE_INFINITY));
        assertBits(-0f, MathF.geluSecondDerivative(Float.NEGATIVE_INFINITY));
        assertBits(0f, MathF.gelu(0f));
        assertBits(-0f, MathF.gelu(-0f));
        assertBits(0.5f, MathF.geluDerivative(0f));
        assertBits(0.5f, MathF.geluDerivative(-0f));
        assertBits((float) (2 * GeluReference.INV_SQRT_2PI), MathF.geluSecondDerivative(0f));
        assertBits((float) (2 * GeluReference.INV_SQRT_2PI), MathF.geluSecondDerivative(-0f));
        for (float z : new float[] {10f, 10.5f, 1e10f, Float.MAX_VALUE}) {
            assertBits(z, MathF.gelu(z));
            assertBits(1f, MathF.geluDerivative(z));
            assertBits(-0f, MathF.gelu(-z * 1.5f));
            assertBits(-0f, MathF.geluDerivative(-z * 1.5f));
            assertBits(-0f, MathF.geluSecondDerivative(z * 1.5f));
            assertBits(-0f, MathF.geluSecondDerivative(-z * 1.5f));
        }
        // the clamps are exact roundings: just inside them the functions already give the same
        assertBits(Math.nextDown(10f), MathF.gelu(Math.nextDown(10f)));
        assertBits(1f, MathF.geluDerivative(Math.nextDown(10f)));
        assertBits(-0f, MathF.gelu(Math.nextUp(-15f)));
        assertBits(-0f, MathF.geluDerivative(Math.nextUp(-15f)));
        assertBits(-0f, MathF.geluSecondDerivative(Math.nextUp(-15f)));
        assertBits(-0f, MathF.geluSecondDerivative(Math.nextDown(15f)));
        // subnormal results on the negative side, as the exact function has them
        assertTrue(MathF.gelu(-13.5f) < 0 && MathF.gelu(-13.5f) > -Float.MIN_NORMAL, "gelu(-13.5) is subnormal");
        assertTrue(MathF.geluDerivative(-13.5f) < 0 && MathF.geluDerivative(-13.5f) > -Float.MIN_NORMAL,
                "gelu'(-13.5) is subnormal");
        // gelu has the sign of z, zeros included
        assertBits(-0f, MathF.gelu(-Float.MIN_VALUE));
        assertBits(-0f, MathF.gelu(-13.5f * 1.1f));
        assertBits(0f, MathF.gelu(Float.MIN_VALUE));
        // the limits
        assertBits(0.5f * 1e-30f, MathF.gelu(1e-30f));
        assertBits(-0.5f * 1e-30f, MathF.gelu(-1e-30f));
    }

    private static void assertBits(float expected, float got) {
        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got), () -> got + ", expected " + expected);
    }
}
