package dev.checkprop.kernel;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Seeded inputs and bit-level helpers shared by the kernel tests. */
final class KernelTestData {

    private KernelTestData() {
    }

    /** A quiet NaN with a payload no kernel produces: prefilled into outputs to detect stray writes. */
    static final float SENTINEL = Float.intBitsToFloat(0x7FC0BEEF);

    /** The dimensions every product test draws from: around the vector width 16 and the tile sizes. */
    static final int[] SIZES = {1, 2, 3, 7, 15, 16, 17, 31, 33, 64, 100, 257};

    /**
     * Random floats of mixed kinds: mostly moderate values of both signs, with exact zeros (both
     * signs), small magnitudes whose products fall into the subnormal range, and large magnitudes
     * (up to 1e16, so that sums of up to a few hundred products of two of them stay finite).
     */
    static float[] mixed(SplittableRandom rnd, int n) {
        float[] x = new float[n];
        for (int j = 0; j < n; j++) {
            x[j] = mixed(rnd);
        }
        return x;
    }

    static float mixed(SplittableRandom rnd) {
        int kind = rnd.nextInt(100);
        if (kind < 8) {
            return 0f;
        }
        if (kind < 10) {
            return -0f;
        }
        if (kind < 14) {
            // |x| in [1e-25, 1e-18]: products around 1e-45..1e-36, subnormal or just above.
            return (float) (sign(rnd) * Math.pow(10, -25 + 7 * rnd.nextDouble()));
        }
        if (kind < 18) {
            // |x| in [1e3, 1e16]
            return (float) (sign(rnd) * Math.pow(10, 3 + 13 * rnd.nextDouble()));
        }
        if (kind < 22) {
            // small integers: many exact products and exact cancellations
            return rnd.nextInt(-4, 5);
        }
        return (float) (rnd.nextDouble() * 4 - 2);
    }

    private static double sign(SplittableRandom rnd) {
        return rnd.nextBoolean() ? 1 : -1;
    }

    static float[] filled(int n, float v) {
        float[] x = new float[n];
        Arrays.fill(x, v);
        return x;
    }

    static int[] bits(float[] x) {
        int[] b = new int[x.length];
        for (int j = 0; j < x.length; j++) {
            b[j] = Float.floatToRawIntBits(x[j]);
        }
        return b;
    }
}
