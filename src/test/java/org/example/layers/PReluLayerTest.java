package org.example.layers;

import dev.checkprop.nn.Curvature;
import dev.checkprop.reference.DirectContext;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The user-written {@link PReluLayer} on its own, through a {@link DirectContext}: values by hand, its
 * tangent methods against central differences of its own forward and backward, and the same bits
 * for every chunking.
 */
class PReluLayerTest {

    private static final int N = 6;
    private static final int WIDTH = 5;

    /** Inputs at least 0.1 from the kink at 0, so that a perturbation of 1e-2 along a direction of size &le; 1 never crosses it. */
    private static float[] awayFromKink(long stream) {
        float[] x = TestNets.uniform(WIDTH * N, 9, stream, 1f);
        for (int j = 0; j < x.length; j++) {
            x[j] = x[j] < 0 ? x[j] - 0.1f : x[j] + 0.1f;
        }
        return x;
    }

    private static final float[] SLOPE = {0.25f, -0.5f, 1.5f, 0f, 0.1f};

    /** Runs forward then backward; answers [y, dx, da]. */
    private static float[][] plain(float[] slope, float[] x, float[] g, int chunk, boolean reversed) {
        PReluLayer p = new PReluLayer(WIDTH, slope.clone());
        DirectContext c = new DirectContext(p, N, false);
        c.rowChunk = chunk;
        c.reversed = reversed;
        c.input = x;
        c.output = c.newState();
        p.forward(c);
        c.gradOutput = g.clone();
        c.gradInput = new float[WIDTH * N];
        c.weightGradient = new float[WIDTH];
        c.biasGradient = new float[0];
        p.backward(c);
        return new float[][] {c.output, c.gradInput, c.weightGradient};
    }

    /** Runs the tangent forward and backward; answers [y, R y, dx, R dx, da, (Cv)_a]. */
    private static float[][] tangent(float[] slope, float[] x, float[] rx, float[] va, float[] g, float[] rg, Curvature k,
                                     int chunk, boolean reversed) {
        PReluLayer p = new PReluLayer(WIDTH, slope.clone());
        DirectContext c = new DirectContext(p, N, true);
        c.rowChunk = chunk;
        c.reversed = reversed;
        c.curvature = k;
        c.input = x;
        c.rInput = rx;
        c.output = c.newState();
        c.rOutput = c.newState();
        c.directionWeights = va;
        c.directionBias = new float[0];
        p.forwardWithTangent(c);
        c.gradOutput = g.clone();
        c.rGradOutput = rg.clone();
        c.gradInput = new float[WIDTH * N];
        c.rGradInput = new float[WIDTH * N];
        c.weightGradient = new float[WIDTH];
        c.biasGradient = new float[0];
        c.productWeights = new float[WIDTH];
        c.productBias = new float[0];
        p.backwardWithTangent(c);
        return new float[][] {c.output, c.rOutput, c.gradInput, c.rGradInput, c.weightGradient, c.productWeights};
    }

    @Test
    void valuesByHand() {
        float[] x = awayFromKink(1);
        float[] g = TestNets.uniform(WIDTH * N, 9, 2, 1f);
        float[][] r = plain(SLOPE, x, g, 1 << 24, false);
        for (int u = 0; u < WIDTH; u++) {
            double da = 0;
            for (int i = 0; i < N; i++) {
                int j = u * N + i;
                assertEquals(x[j] > 0 ? x[j] : SLOPE[u] * x[j], r[0][j], 0.0, "y");
                assertEquals(x[j] > 0 ? g[j] : SLOPE[u] * g[j], r[1][j], 0.0, "dx");
                da += x[j] > 0 ? 0 : (double) g[j] * x[j];
            }
            // N fused multiply-adds of O(1) terms: within N ulp of the double sum.
            assertEquals(da, r[2][u], N * 1.2e-7, "da[" + u + "]");
        }
    }

    /**
     * The R-operator is the directional derivative of the layer's own float forward and backward, as
     * functions of (x, a, g), along (R{x}, v<sub>a</sub>, R{g}). Away from the kink both are bilinear in
     * these, so the central difference has no truncation error at all, only rounding: O(1) values
     * with ulp 1.2e-7, divided by 2h = 2e-2, give about 1e-5; the bound is 1e-4 &middot; max(1, |R|).
     * Gauss-Newton is the backward applied to R{g} with (x, a) held.
     */
    @Test
    void tangentsAreDirectionalDerivativesOfTheLayersOwnPasses() {
        float[] x = awayFromKink(3);
        float[] rx = TestNets.uniform(WIDTH * N, 9, 4, 1f);
        float[] va = TestNets.uniform(WIDTH, 9, 5, 1f);
        float[] g = TestNets.uniform(WIDTH * N, 9, 6, 1f);
        float[] rg = TestNets.uniform(WIDTH * N, 9, 7, 1f);
        float h = 1e-2f;
        float[][] up = plain(axpy(SLOPE, h, va), axpy(x, h, rx), axpy(g, h, rg), 1 << 24, false);
        float[][] down = plain(axpy(SLOPE, -h, va), axpy(x, -h, rx), axpy(g, -h, rg), 1 << 24, false);
        float[][] hess = tangent(SLOPE, x, rx, va, g, rg, Curvature.HESSIAN, 1 << 24, false);
        assertDifference(up[0], down[0], h, hess[1], "R y");
        assertDifference(up[1], down[1], h, hess[3], "R dx, Hessian");
        assertDifference(up[2], down[2], h, hess[5], "(Hv)_a");
        float[][] plainRun = plain(SLOPE, x, g, 1 << 24, false);
        assertArrayEquals(plainRun[0], hess[0], "y of the tangent forward");
        assertArrayEquals(plainRun[1], hess[2], "dx of the tangent backward");
        assertArrayEquals(plainRun[2], hess[4], "da of the tangent backward");
        float[][] gn = tangent(SLOPE, x, rx, va, g, rg, Curvature.GAUSS_NEWTON, 1 << 24, false);
        float[][] onRg = plain(SLOPE, x, rg, 1 << 24, false);
        assertArrayEquals(onRg[1], gn[3], "R dx, Gauss-Newton: the backward of R g");
        for (int u = 0; u < WIDTH; u++) {
            assertEquals(onRg[2][u], gn[5][u], N * 1.2e-7, "(Gv)_a[" + u + "]: the slope gradient of R g");
        }
        // Layer 1: R{a^0} = 0, passed as null.
        float[][] first = tangent(SLOPE, x, null, va, g, rg, Curvature.HESSIAN, 1 << 24, false);
        float[][] zero = tangent(SLOPE, x, new float[WIDTH * N], va, g, rg, Curvature.HESSIAN, 1 << 24, false);
        assertArrayEquals(zero[1], first[1], "R y with R{x} null");
        assertArrayEquals(zero[5], first[5], "(Hv)_a with R{x} null");
    }

    private static float[] axpy(float[] y, float a, float[] x) {
        float[] r = y.clone();
        for (int j = 0; j < r.length; j++) {
            r[j] += a * x[j];
        }
        return r;
    }

    private static void assertDifference(float[] up, float[] down, float h, float[] r, String what) {
        for (int j = 0; j < r.length; j++) {
            double fd = ((double) up[j] - down[j]) / (2.0 * h);
            assertEquals(fd, r[j], 1e-4 * Math.max(1, Math.abs(r[j])), what + "[" + j + "]");
        }
    }

    @Test
    void everyChunkingGivesTheSameBits() {
        float[] x = TestNets.uniform(WIDTH * N, 9, 8, 1f);
        float[] g = TestNets.uniform(WIDTH * N, 9, 9, 1f);
        float[] rx = TestNets.uniform(WIDTH * N, 9, 10, 1f);
        float[] rg = TestNets.uniform(WIDTH * N, 9, 11, 1f);
        float[] va = TestNets.uniform(WIDTH, 9, 12, 1f);
        float[][] whole = plain(SLOPE, x, g, 1 << 24, false);
        for (int chunk : new int[] {1, 2, 3}) {
            for (boolean reversed : new boolean[] {false, true}) {
                float[][] r = plain(SLOPE, x, g, chunk, reversed);
                for (int p = 0; p < 3; p++) {
                    assertArrayEquals(whole[p], r[p], "chunk " + chunk + ", array " + p);
                }
                for (Curvature k : Curvature.values()) {
                    float[][] a = tangent(SLOPE, x, rx, va, g, rg, k, 1 << 24, false);
                    float[][] b = tangent(SLOPE, x, rx, va, g, rg, k, chunk, reversed);
                    for (int p = 0; p < a.length; p++) {
                        assertArrayEquals(a[p], b[p], k.label() + ", chunk " + chunk + ", array " + p);
                    }
                }
            }
        }
    }

    @Test
    void argumentsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> new PReluLayer(0, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> new PReluLayer(3, new float[2]));
        assertThrows(IllegalArgumentException.class, () -> new PReluLayer(2, new float[] {0f, Float.NaN}));
        PReluLayer p = PReluLayer.withSlope(4, 0.25f);
        assertEquals(0, p.bias().length);
        assertEquals(0, p.tapeRows());
        assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, 0.25f}, p.copy().weights());
    }
}
