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
     * Median nanoseconds of {@value #CALLS} products with the wide set [0] and the narrow set [1].
     * Both are first run alternately until C2 has compiled them, recognised by the time of a round
     * no longer falling (the JIT compiles in the background, so a fixed count of warm-up calls can
     * end before the compiled code is installed); then five timed rounds each, alternating, so that
     * a slow period of a shared machine falls on both.
     */
    private static long[] measure() {
        final float[] a = new float[M * K];
        final float[] b = new float[K * N];
        final float[] c = new float[M * N];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 7) * 0.125f - 0.375f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i % 5) * 0.25f - 0.5f;
        }
        // Single calls of a short reduction while the code is interpreted (C2 compiles a tile after
        // about 600 calls, whatever their length, so short calls get there sooner); then of the
        // timed length, since the first long call may still deoptimize and recompile.
        final long deadline = System.nanoTime() + WARM_UP_LIMIT_NANOS;
        warm(WARM_K, a, b, c, deadline);
        warm(K, a, b, c, deadline);
        final int rounds = 5;
        final long[][] times = new long[2][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int set = 0; set < 2; set++) {
                times[set][r] = round(set == 0, CALLS, K, a, b, c);
            }
        }
        java.util.Arrays.sort(times[0]);
        java.util.Arrays.sort(times[1]);
        return new long[] {Math.max(1, times[0][rounds / 2]), Math.max(1, times[1][rounds / 2])};
    }

    /**
     * Single calls with both sets, alternately, until each has run 20 calls in a row within 1.25x
     * of its fastest: compiled by C2 and installed.
     */
    private static void warm(int k, float[] a, float[] b, float[] c, long deadline) {
        final long[] best = {Long.MAX_VALUE, Long.MAX_VALUE};
        final int[] steady = new int[2];
        while ((steady[0] < 20 || steady[1] < 20) && System.nanoTime() < deadline) {
            for (int set = 0; set < 2; set++) {
                final long t = round(set == 0, 1, k, a, b, c);
                best[set] = Math.min(best[set], t);
                steady[set] = t * 4 <= best[set] * 5 ? steady[set] + 1 : 0;
            }
        }
    }

    /** Give up waiting for the JIT after this long and measure what runs by then. */
    private static final long WARM_UP_LIMIT_NANOS = 2_000_000_000L;

    private static long round(boolean wide, int calls, int k, float[] a, float[] b, float[] c) {
        final long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, K, 1, b, N, c, N, null);
        }
        return System.nanoTime() - t0;
    }
}
