package dev.checkprop.nn;

import dev.checkprop.reference.DirectContext;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link LayerNormLayer} on its own, run through a {@link DirectContext}: its values against
 * {@code torch.nn.LayerNorm}, its tape, its independence of the chunking, and its argument checks.
 */
class LayerNormLayerTest {

    /*
     * Expected values produced once with PyTorch 1.13 (CPU, float32) by
     *   ln = torch.nn.LayerNorm(n, eps=EPS); ln.weight.copy_(GAMMA); ln.bias.copy_(BETA)
     *   x = X.clone().requires_grad_(True); y = ln(x); (y * UP).sum().backward()
     * and printing y, x.grad, ln.weight.grad, ln.bias.grad with repr(float(v)) (exact float32 values).
     * X, UP, Y and DX are row-major [N, n], as torch holds them.
     */

    /** Case A: n = 5, N = 3, eps 1e-5 (the default); one row far from zero mean, one of small values. */
    private static final float[] A_X = {0.5f, -1.25f, 2.0f, 0.125f, -0.75f, 3.0f, 3.5f, 2.5f, 4.0f, 3.25f,
            -0.10000000149011612f, 0.20000000298023224f, -0.30000001192092896f, 0.4000000059604645f, -0.5f};
    private static final float[] A_GAMMA = {1.5f, 0.5f, -1.0f, 2.0f, 0.75f};
    private static final float[] A_BETA = {0.10000000149011612f, -0.20000000298023224f, 0.0f, 0.30000001192092896f,
            -0.05000000074505806f};
    private static final float[] A_UP = {0.30000001192092896f, -0.699999988079071f, 1.100000023841858f, 0.05000000074505806f,
            -0.4000000059604645f, -1.0f, 0.25f, 0.5f, -0.125f, 0.8999999761581421f, 0.6000000238418579f, 0.6000000238418579f,
            -0.20000000298023224f, -0.800000011920929f, 0.10000000149011612f};
    private static final float[] A_Y = {0.600616455078125f, -0.8118644952774048f, -1.668721318244934f, 0.30000001192092896f,
            -0.6340525150299072f, -0.6499849557876587f, 0.04999499022960663f, 1.4999699592590332f, 3.2999398708343506f,
            -0.05000000074505806f, -0.08393314480781555f, 0.19852183759212494f, 0.7357326149940491f, 3.1203081607818604f,
            -1.0616322755813599f};
    private static final float[] A_DX = {0.6748899221420288f, -0.3208332657814026f, -0.46138471364974976f, 0.3025948107242584f,
            -0.19526679813861847f, -2.1824657917022705f, 0.5924975872039795f, 0.2924656867980957f, -0.6324589252471924f,
            1.9299613237380981f, 2.6570210456848145f, 2.157302141189575f, -0.3819408714771271f, -2.774172306060791f,
            -1.658210039138794f};
    private static final float[] A_DGAMMA = {0.5265400409698486f, 1.4598339796066284f, 1.2327550649642944f,
            -1.3156195878982544f, 0.17661036550998688f};
    private static final float[] A_DBETA = {-0.09999996423721313f, 0.15000003576278687f, 1.399999976158142f, -0.875f,
            0.5999999642372131f};

    /** Case B: n = 4, N = 2, eps 0.1: a nearly constant row (eps dominates the variance) and a constant one. */
    private static final float B_EPS = 0.1f;
    private static final float[] B_X = {1.0f, 1.0010000467300415f, 0.9990000128746033f, 1.000499963760376f, 2.0f, 2.0f, 2.0f, 2.0f};
    private static final float[] B_GAMMA = {0.8999999761581421f, 1.100000023841858f, -0.5f, 1.0f};
    private static final float[] B_BETA = {0.0f, 0.5f, -0.5f, 0.25f};
    private static final float[] B_UP = {1.0f, -2.0f, 0.5f, 0.25f, 0.30000001192092896f, 0.10000000149011612f,
            -0.4000000059604645f, 0.20000000298023224f};
    private static final float[] B_Y = {-0.0003555536095518619f, 0.503044068813324f, -0.49822136759757996f, 0.25118595361709595f,
            0.0f, 0.5f, -0.5f, 0.25f};
    private static final float[] B_DX = {3.8737778663635254f, -5.929243087768555f, 0.23715543746948242f, 1.8183097839355469f,
            0.2371707558631897f, -0.26879364252090454f, 0.01581132411956787f, 0.01581132411956787f};
    private static final float[] B_DGAMMA = {-0.00039505958557128906f, -0.005534714553505182f, -0.0017786440439522266f,
            0.0002964900922961533f};
    private static final float[] B_DBETA = {1.2999999523162842f, -1.899999976158142f, 0.09999999403953552f, 0.44999998807907104f};

    /** Row-major [N, n] to unit-major [n, N]. */
    static float[] unitMajor(float[] rows, int n, int samples) {
        float[] u = new float[rows.length];
        for (int i = 0; i < samples; i++) {
            for (int k = 0; k < n; k++) {
                u[k * samples + i] = rows[i * n + k];
            }
        }
        return u;
    }

    /** The layer's forward and backward on a [N, n] input and upstream gradient, as torch's values are laid out. */
    private record Run(float[] state, float[] y, float[] dx, float[] dgamma, float[] dbeta) {
    }

    private static Run run(LayerNormLayer ln, float[] xRows, float[] upRows, int samples, int sampleChunk, boolean reversed) {
        int n = ln.outputWidth();
        DirectContext c = new DirectContext(ln, samples, false);
        c.sampleChunk = sampleChunk;
        c.rowChunk = sampleChunk;
        c.reversed = reversed;
        c.input = unitMajor(xRows, n, samples);
        c.output = c.newState();
        ln.forward(c);
        c.gradOutput = unitMajor(upRows, n, samples);
        c.gradInput = new float[n * samples];
        c.weightGradient = new float[n];
        c.biasGradient = new float[n];
        ln.backward(c);
        return new Run(c.output.clone(), rowsOf(c.output, n, samples), rowsOf(c.gradInput, n, samples),
                c.weightGradient, c.biasGradient);
    }

    /** Unit-major [n, N] (first n rows of {@code a}) to row-major [N, n]. */
    static float[] rowsOf(float[] a, int n, int samples) {
        float[] r = new float[n * samples];
        for (int i = 0; i < samples; i++) {
            for (int k = 0; k < n; k++) {
                r[i * n + k] = a[k * samples + i];
            }
        }
        return r;
    }

    /**
     * Agreement with torch's float32 results. The two compute the same real numbers in different
     * orders (torch's CPU kernel accumulates the moments in its own vectorised order), so they differ
     * by rounding only: y = &gamma;(x &minus; &mu;)r + &beta; is a handful of operations on O(1) values,
     * within a few ulp (~1e-7) of each other; &part;x is r times a difference of O(1) sums, so a few
     * ulp of r (up to 3.2 here) times O(1). Bound 2e-6 &middot; max(1, |expected|), about ten times
     * the largest difference measured (1.8e-7, in &part;x); a wrong formula (a missing mean term, unbiased
     * variance, eps outside the root) is off by 1e-2 or more on these inputs.
     */
    private static void assertCloseToTorch(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 2e-6 * Math.max(1, Math.abs(expected[j])), what + "[" + j + "]");
        }
    }

    @Test
    void forwardAndBackwardAgreeWithTorchAtTheDefaultEps() {
        LayerNormLayer ln = new LayerNormLayer(5, A_GAMMA.clone(), A_BETA.clone(), LayerNormLayer.DEFAULT_EPS);
        Run r = run(ln, A_X, A_UP, 3, 1 << 24, false);
        assertCloseToTorch(A_Y, r.y(), "y");
        assertCloseToTorch(A_DX, r.dx(), "dx");
        assertCloseToTorch(A_DGAMMA, r.dgamma(), "dgamma");
        assertCloseToTorch(A_DBETA, r.dbeta(), "dbeta");
    }

    @Test
    void forwardAndBackwardAgreeWithTorchWhenEpsDominatesTheVariance() {
        LayerNormLayer ln = new LayerNormLayer(4, B_GAMMA.clone(), B_BETA.clone(), B_EPS);
        Run r = run(ln, B_X, B_UP, 2, 1 << 24, false);
        assertCloseToTorch(B_Y, r.y(), "y");
        assertCloseToTorch(B_DX, r.dx(), "dx");
        assertCloseToTorch(B_DGAMMA, r.dgamma(), "dgamma");
        assertCloseToTorch(B_DBETA, r.dbeta(), "dbeta");
        // A constant row normalises to 0 exactly: y = beta, bit for bit.
        for (int u = 0; u < 4; u++) {
            assertEquals(B_BETA[u], r.y()[4 + u], 0.0, "constant row, y[" + u + "]");
        }
    }

    /**
     * The torch constants themselves, recomputed by hand in double from the definition (biased
     * variance, eps inside the root): agreement to float rounding, 1e-6 &middot; max(1, |y|), shows
     * the constants are LayerNorm's and were pasted in the right order.
     */
    @Test
    void torchConstantsAreLayerNormByHand() {
        checkByHand(A_X, A_GAMMA, A_BETA, A_UP, A_Y, A_DX, 5, 3, 1e-5);
        checkByHand(B_X, B_GAMMA, B_BETA, B_UP, B_Y, B_DX, 4, 2, B_EPS);
    }

    private static void checkByHand(float[] x, float[] gamma, float[] beta, float[] up, float[] y, float[] dx, int n,
                                    int samples, double eps) {
        for (int i = 0; i < samples; i++) {
            double mu = 0;
            for (int k = 0; k < n; k++) {
                mu += x[i * n + k];
            }
            mu /= n;
            double var = 0;
            for (int k = 0; k < n; k++) {
                var += (x[i * n + k] - mu) * (x[i * n + k] - mu);
            }
            var /= n;
            double r = 1 / Math.sqrt(var + (float) eps);
            double[] xh = new double[n];
            double a = 0;
            double b = 0;
            for (int k = 0; k < n; k++) {
                xh[k] = (x[i * n + k] - mu) * r;
                assertEquals(gamma[k] * xh[k] + beta[k], y[i * n + k], 1e-6 * Math.max(1, Math.abs(y[i * n + k])), "y by hand");
                a += up[i * n + k] * gamma[k] / n;
                b += up[i * n + k] * gamma[k] * xh[k] / n;
            }
            for (int k = 0; k < n; k++) {
                double expected = r * (up[i * n + k] * gamma[k] - a - xh[k] * b);
                assertEquals(expected, dx[i * n + k], 1e-6 * Math.max(1, Math.abs(dx[i * n + k])), "dx by hand");
            }
        }
    }

    /** The tape: &mu; and r = 1/&radic;(&sigma;&sup2; + &epsilon;) per sample in the two rows after y, computed as documented. */
    @Test
    void tapeHoldsMeanAndReciprocalDeviation() {
        LayerNormLayer ln = new LayerNormLayer(5, A_GAMMA.clone(), A_BETA.clone(), LayerNormLayer.DEFAULT_EPS);
        assertEquals(2, ln.tapeRows());
        assertEquals(7L * 3, StateModel.floats(ln, 3));
        float[] state = run(ln, A_X, A_UP, 3, 1 << 24, false).state();
        assertEquals(7 * 3, state.length);
        for (int i = 0; i < 3; i++) {
            // The documented order: s = sum x in unit order; mu = s / n; q = sum fma(d, d, q); r = 1 / sqrt(q / n + eps).
            float s = 0f;
            for (int k = 0; k < 5; k++) {
                s += A_X[i * 5 + k];
            }
            float mu = s / 5f;
            float q = 0f;
            for (int k = 0; k < 5; k++) {
                float d = A_X[i * 5 + k] - mu;
                q = Math.fma(d, d, q);
            }
            float r = 1f / (float) Math.sqrt(q / 5f + LayerNormLayer.DEFAULT_EPS);
            assertEquals(Float.floatToRawIntBits(mu), Float.floatToRawIntBits(state[5 * 3 + i]), "mu of sample " + i);
            assertEquals(Float.floatToRawIntBits(r), Float.floatToRawIntBits(state[6 * 3 + i]), "r of sample " + i);
        }
    }

    /** Every chunking of the samples and features, in either order, gives the same bits: forward, backward and both tangents. */
    @Test
    void chunkingAndOrderChangeNoBit() {
        int n = 11;
        int samples = 9;
        LayerNormLayer ln = TestNets.layerNorm(n, 5, LayerNormLayer.DEFAULT_EPS);
        float[] x = TestNets.uniform(n * samples, 1, 1, 2f);
        float[] up = TestNets.uniform(n * samples, 1, 2, 1f);
        Run whole = run(ln, x, up, samples, 1 << 24, false);
        float[][] tangentWhole = null;
        for (int chunk : new int[] {1, 2, 4, 7, 1 << 24}) {
            for (boolean reversed : new boolean[] {false, true}) {
                Run r = run(ln, x, up, samples, chunk, reversed);
                String what = "chunk " + chunk + (reversed ? ", reversed" : "");
                assertArrayEquals(bits(whole.state()), bits(r.state()), what + ": state");
                assertArrayEquals(bits(whole.dx()), bits(r.dx()), what + ": dx");
                assertArrayEquals(bits(whole.dgamma()), bits(r.dgamma()), what + ": dgamma");
                assertArrayEquals(bits(whole.dbeta()), bits(r.dbeta()), what + ": dbeta");
                for (Curvature k : Curvature.values()) {
                    float[][] t = tangents(ln, x, up, samples, chunk, reversed, k);
                    if (chunk == 1 && !reversed && k == Curvature.HESSIAN) {
                        tangentWhole = t;
                    }
                    float[][] base = k == Curvature.HESSIAN ? tangentWhole : tangents(ln, x, up, samples, 1 << 24, false, k);
                    for (int p = 0; p < t.length; p++) {
                        assertArrayEquals(bits(base[p]), bits(t[p]), what + ", " + k.label() + ": tangent array " + p);
                    }
                    // The tangent methods' own a and gradient are the plain ones.
                    assertArrayEquals(bits(whole.state()), bits(t[0]), what + ", " + k.label() + ": state of the tangent forward");
                    assertArrayEquals(bits(whole.dgamma()), bits(t[4]), what + ", " + k.label() + ": dgamma of the tangent backward");
                    assertArrayEquals(bits(whole.dbeta()), bits(t[5]), what + ", " + k.label() + ": dbeta of the tangent backward");
                    assertArrayEquals(bits(rowsToUnitMajorFirstRows(whole.dx(), n, samples)), bits(t[2]),
                            what + ", " + k.label() + ": dx of the tangent backward");
                }
            }
        }
    }

    private static float[] rowsToUnitMajorFirstRows(float[] rows, int n, int samples) {
        return unitMajor(rows, n, samples);
    }

    /** The tangent forward and backward: [state, R state, dx, R dx, dgamma, dbeta, (Cv)_gamma, (Cv)_beta]. */
    private static float[][] tangents(LayerNormLayer ln, float[] xRows, float[] upRows, int samples, int chunk, boolean reversed,
                                      Curvature k) {
        int n = ln.outputWidth();
        DirectContext c = new DirectContext(ln, samples, true);
        c.sampleChunk = chunk;
        c.rowChunk = chunk;
        c.reversed = reversed;
        c.curvature = k;
        c.input = unitMajor(xRows, n, samples);
        c.rInput = TestNets.uniform(n * samples, 3, 1, 1f);
        c.output = c.newState();
        c.rOutput = c.newState();
        c.directionWeights = TestNets.uniform(n, 3, 2, 1f);
        c.directionBias = TestNets.uniform(n, 3, 3, 1f);
        ln.forwardWithTangent(c);
        c.gradOutput = unitMajor(upRows, n, samples);
        c.rGradOutput = TestNets.uniform(n * samples, 3, 4, 1f);
        c.gradInput = new float[n * samples];
        c.rGradInput = new float[n * samples];
        c.weightGradient = new float[n];
        c.biasGradient = new float[n];
        c.productWeights = new float[n];
        c.productBias = new float[n];
        ln.backwardWithTangent(c);
        return new float[][] {c.output, c.rOutput, c.gradInput, c.rGradInput, c.weightGradient, c.biasGradient,
                c.productWeights, c.productBias};
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    /** Inference is the same map as training (LayerNorm is not random); the first layer's backward needs no gradient below. */
    @Test
    void inferenceIsTrainingAndTheFirstLayerSkipsTheInputGradient() {
        LayerNormLayer ln = new LayerNormLayer(5, A_GAMMA.clone(), A_BETA.clone(), LayerNormLayer.DEFAULT_EPS);
        DirectContext c = new DirectContext(ln, 3, false);
        c.input = unitMajor(A_X, 5, 3);
        c.output = c.newState();
        c.training = false;
        ln.forward(c);
        assertArrayEquals(bits(run(ln, A_X, A_UP, 3, 1 << 24, false).state()), bits(c.output));
        c.layerIndex = 1;
        c.gradOutput = unitMajor(A_UP, 5, 3);
        c.weightGradient = new float[5];
        c.biasGradient = new float[5];
        ln.backward(c);
        assertCloseToTorch(A_DGAMMA, c.weightGradient, "dgamma, layer 1");
    }

    @Test
    void constructorChecksItsArguments() {
        float[] five = new float[5];
        IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
                () -> new LayerNormLayer(0, new float[0], new float[0], 1e-5f));
        assertTrue(width.getMessage().contains(">= 1"), width.getMessage());
        IllegalArgumentException lengths = assertThrows(IllegalArgumentException.class,
                () -> new LayerNormLayer(5, five, new float[4], 1e-5f));
        assertTrue(lengths.getMessage().contains("5") && lengths.getMessage().contains("4"), lengths.getMessage());
        for (float eps : new float[] {0f, -1e-5f, Float.NaN, Float.POSITIVE_INFINITY}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new LayerNormLayer(5, five, five, eps), "eps " + eps);
            assertTrue(e.getMessage().contains("eps"), e.getMessage());
        }
    }

    @Test
    void identityIsTorchsInitialisationAndCopiesAreDeep() {
        LayerNormLayer ln = LayerNormLayer.identity(6);
        float[] ones = new float[6];
        Arrays.fill(ones, 1f);
        assertArrayEquals(ones, ln.weights());
        assertArrayEquals(new float[6], ln.bias());
        assertEquals(1e-5f, ln.eps());
        assertEquals("layernorm", ln.kind());
        assertArrayEquals(new long[] {6}, ln.weightShape());
        assertArrayEquals(new long[] {6}, ln.biasShape());
        LayerNormLayer copy = ln.copy();
        assertNotSame(ln.weights(), copy.weights());
        assertNotSame(ln.bias(), copy.bias());
        assertArrayEquals(ln.weights(), copy.weights());
        assertEquals(ln.eps(), copy.eps());
    }
}
