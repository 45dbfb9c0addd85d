package dev.checkprop.kernel;

/**
 * Which register-tile set {@link VectorKernels} runs on this machine, chosen once per JVM by
 * measuring both.
 *
 * <p>The wide set (8 x 3 tiles: 24 accumulators) needs 32 vector registers, as AVX-512 has; on a
 * CPU with 16 (AVX2) C2 spills its accumulators to the stack on every step and the products run at
 * a third of their speed; the narrow set (6 x 2: 12 accumulators) is the one that fits there. Java
 * cannot ask the CPU how many registers the JIT may use, so the choice is made by timing: both sets
 * run the same product on small operands in the cache, alternately, five times each, and the
 * faster median wins (the wide set unless the narrow one is at least 5% faster, since the wide set
 * reuses each loaded vector more and so gains on large operands what a hot-cache test cannot show).
 * It takes about 100-300 ms, most of it the JIT compiling the tiles, which the first products of a
 * run would otherwise pay. Both sets give every element the same chain, so the choice changes speed
 * and never a bit. {@code -Dcheckprop.tiles=wide} or {@code narrow} skips the measurement.
 */
final class TileChoice {

    /** The system property that fixes the choice. */
    static final String PROPERTY = "checkprop.tiles";

    /** The choice: the wide set or not, and how it was made (for reports). */
    record Choice(boolean wide, String how) {
    }

    private TileChoice() {
    }

    /**
     * Chooses, by {@value #PROPERTY} or by measuring. Called from a holder class's initializer, not
     * from this class's or {@link VectorKernels}'s: code of a class still being initialized runs
     * without the JIT's full help, which would time the interpreter.
     */
    static Choice choose() {
        final String fixed = System.getProperty(PROPERTY);
        if ("wide".equals(fixed) || "narrow".equals(fixed)) {
            return new Choice("wide".equals(fixed), "-D" + PROPERTY + "=" + fixed);
        }
        if (fixed != null) {
            System.getLogger(TileChoice.class.getName()).log(System.Logger.Level.WARNING,
                    "checkprop: -D" + PROPERTY + " must be wide or narrow, got '" + fixed + "'; measuring instead");
        }
        final long t0 = System.nanoTime();
        final long[] t = measure();
        final boolean wide = t[1] * 100 > t[0] * 95;
        return new Choice(wide, String.format("measured in %d ms: wide %.1f, narrow %.1f GFLOP/s",
                (System.nanoTime() - t0) / 1_000_000, flops() / (double) t[0], flops() / (double) t[1]));
    }

    /** Rows, columns and steps of the timed product: whole main tiles of both sets, hot in L2. */
    private static final int M = 48;
    private static final int N = 96;
    private static final int K = 256;
    private static final int CALLS = 10;
    /** Steps of the reduction while warming up. */
    private static final int WARM_K = 16;

    private static double flops() {
        return 2.0 * M * N * K * CALLS;
    }

    /**
     * Median nanoseconds of {@value #CALLS} products with the wide set [0] and the narrow set [1],
     * measured after {@link #warm} has had C2 compile both.
     */
    private static long[] measure() {
        final float[] a = new float[BIG];
        final float[] b = new float[BIG];
        final float[] c = new float[BIG];
        final float[] bias = new float[BIG];
        for (int i = 0; i < BIG; i++) {
            a[i] = (i % 7) * 0.125f - 0.375f;
            b[i] = (i % 5) * 0.25f - 0.5f;
            bias[i] = (i % 3) * 0.5f;
        }
        warm(a, b, c, bias, System.nanoTime() + WARM_UP_LIMIT_NANOS);
        final int rounds = 5;
        final long[][] times = new long[2][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int set = 0; set < 2; set++) {
                final long t0 = System.nanoTime();
                for (int i = 0; i < CALLS; i++) {
                    VectorKernels.gemm(set == 0, true, 0, M, 0, N, K, a, K, 1, b, N, c, N, null);
                }
                times[set][r] = System.nanoTime() - t0;
            }
        }
        java.util.Arrays.sort(times[0]);
        java.util.Arrays.sort(times[1]);
        return new long[] {Math.max(1, times[0][rounds / 2]), Math.max(1, times[1][rounds / 2])};
    }

    /** Floats in each scratch operand of the warm-up: room for a 264-step reduction over 512 columns. */
    private static final int BIG = 264 * 512;
    private static final int WIDE_B = 512;

    /**
     * Runs both sets, alternately, through every path of the product (bias or none, flushing or
     * not, one block of the reduction or several, packed operands, column and row remainders, the
     * four-vector and narrower-than-a-vector batches, several row blocks) until each set has done
     * 10 tours in a row within 1.25x of its fastest: compiled by C2 and installed. Every branch is
     * taken while the JIT profiles, because C2 compiles a branch never taken as a trap that
     * deoptimizes the method when it is first taken, back to the interpreter, where the Vector API
     * allocates and runs a hundred times slower until the method is compiled again. Short
     * reductions, because what triggers compilation is the number of calls, not their length.
     */
    private static void warm(float[] a, float[] b, float[] c, float[] bias, long deadline) {
        final long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
        final int[] steady = new int[2];
        final int lanes = VectorKernels.lanes();
        for (int tour = 0; (steady[0] < 10 || steady[1] < 10) && System.nanoTime() < deadline; tour++) {
            for (int set = 0; set < 2; set++) {
                final boolean wide = set == 0;
                final long t0 = System.nanoTime();
                final int k = WARM_K;
                VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, k, 1, b, N, c, N, null);
                VectorKernels.gemm(wide, false, 0, M, 0, N, k, a, k, 1, b, N, c, N, bias);
                // row remainders and several row blocks; 7 vectors and a tail; 5 vectors
                VectorKernels.gemm(wide, true, 0, 2 * M + 7, 0, 7 * lanes + 5, k, a, k, 1, b, 8 * lanes, c,
                        8 * lanes, bias);
                VectorKernels.gemm(wide, true, 3, M + 3, 0, 5 * lanes, k, a, k, 1, b, 5 * lanes, c, 5 * lanes, null);
                // a batch of four vectors; narrower than one vector
                VectorKernels.gemm(wide, true, 0, M + 1, 0, 4 * lanes, k, a, k, 1, b, 4 * lanes, c, 4 * lanes, bias);
                VectorKernels.gemm(wide, true, 0, 9, 1, 1 + lanes / 2, k, a, k, 1, b, lanes, c, lanes, null);
                // B and A packed (strides of 512 floats)
                VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, k, 1, b, WIDE_B, c, WIDE_B, bias);
                VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, 1, WIDE_B, b, N, c, N, null);
                if (tour % 4 == 0) {
                    // several blocks of the reduction: the partial sums stored and reloaded
                    VectorKernels.gemm(wide, true, 0, M, 0, N, LONG_K, a, LONG_K, 1, b, N, c, N, bias);
                }
                final long t = System.nanoTime() - t0;
                if (tour % 4 != 0) {
                    best[set] = Math.min(best[set], t);
                    steady[set] = t * 4 <= best[set] * 5 ? steady[set] + 1 : 0;
                }
            }
        }
    }

    /** A reduction of more than one cache block. */
    private static final int LONG_K = 264;

    /** Give up waiting for the JIT after this long and measure what runs by then. */
    private static final long WARM_UP_LIMIT_NANOS = 1_000_000_000L;
}
