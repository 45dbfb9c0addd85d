package dev.checkprop.kernel;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link DenseKernels#allFinite} on the scalar and vector kernels against the plain definition
 * (every element {@link Float#isFinite}): every length up to five vectors and beyond, a NaN or an
 * infinity at every position (vector body and scalar tail), and finite extremes that must not
 * count (the largest floats, whose sums would overflow, subnormals, signed zeros).
 */
class AllFiniteTest {

    private static List<DenseKernels> kernels() {
        return List.of(ScalarKernels.INSTANCE, VectorKernels.of(true, true), VectorKernels.of(false, false));
    }

    @Test
    void finiteExtremesAreFinite() {
        final float[] x = new float[5 * VectorKernels.lanes() + 3];
        final float[] extremes = {Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_VALUE, -Float.MIN_NORMAL, 0f, -0f, 1e30f};
        for (int i = 0; i < x.length; i++) {
            x[i] = extremes[i % extremes.length];
        }
        for (DenseKernels k : kernels()) {
            assertEquals(true, k.allFinite(x), k.name());
            assertEquals(true, k.allFinite(new float[0]), k.name());
        }
    }

    @Test
    void everyNonFiniteValueAtEveryPositionIsFound() {
        final SplittableRandom rnd = new SplittableRandom(11);
        final float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001)};
        for (int n = 1; n <= 6 * VectorKernels.lanes() + 5; n++) {
            final float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) (rnd.nextDouble() * 2e38 - 1e38);
            }
            for (DenseKernels k : kernels()) {
                assertEquals(true, k.allFinite(x), k.name() + " n=" + n);
            }
            for (int pos = 0; pos < n; pos++) {
                final float[] y = Arrays.copyOf(x, n);
                y[pos] = bad[(n + pos) % bad.length];
                for (DenseKernels k : kernels()) {
                    assertEquals(false, k.allFinite(y), k.name() + " n=" + n + " " + y[pos] + " at " + pos);
                }
            }
        }
    }
}
