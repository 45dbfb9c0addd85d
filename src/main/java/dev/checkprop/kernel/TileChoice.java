package dev.checkprop.kernel;

/**
 * Which register-tile set {@link VectorKernels} runs on this machine, chosen once per JVM.
 *
 * <p>The wide set (8 x 3 tiles: 24 accumulators) needs 32 vector registers, as AVX-512 has; on a
 * CPU with 16 (AVX2) C2 spills its accumulators to the stack on every step and the products run at
 * 35-45% of the FMA peak instead of 55-65% with the narrow set (6 x 2: 12 accumulators), measured
 * on an AMD EPYC (Zen 4) with {@code -XX:UseAVX=2}; with AVX-512 the wide set is the faster one
 * (75-95% of the peak against 60-70%). Java cannot ask how many registers the JIT may use, but on
 * x86 512-bit vectors come with 32 registers and 256-bit ones with 16, so the default
 * ({@code -Dcheckprop.tiles=auto}) chooses by the vector width: wide for 16 float lanes, narrow
 * otherwise. {@code wide} or {@code narrow} fixes the set; {@code measure} times both on a tour of
 * every path of the product once C2 has compiled them, and takes the faster. Measuring is not the
 * default because it costs 0.6-1 s of compilation at start-up and, on a loaded machine, often
 * failed to finish compiling within its 1 s limit (it then falls back on the vector width); where
 * it finished, it agreed with the rule by width. Both sets give every element the same chain, so
 * the choice changes speed and never a bit.
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
        final String fixed = System.getProperty(PROPERTY, "auto");
        // 32 vector registers come with 512-bit vectors (AVX-512); 16 with 256-bit ones on x86.
        final boolean byWidth = VectorKernels.lanes() >= 16;
        switch (fixed) {
            case "wide":
            case "narrow":
                return new Choice("wide".equals(fixed), "-D" + PROPERTY + "=" + fixed);
            case "measure":
                break;
            default:
                if (!"auto".equals(fixed)) {
                    System.getLogger(TileChoice.class.getName()).log(System.Logger.Level.WARNING,
                            "checkprop: -D" + PROPERTY + " must be auto, wide, narrow or measure, got '" + fixed
                                    + "'; using auto");
                }
                return new Choice(byWidth, "by vector width, " + VectorKernels.lanes() + " lanes");
        }
        final long t0 = System.nanoTime();
        final double[] gflops = measure();
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        if (gflops == null || Math.max(gflops[0], gflops[1]) < PLAUSIBLE_GFLOPS) {
            // The JIT had not compiled both sets in time (a loaded machine, a slow compiler):
            // what was timed is the interpreter, so fall back on the vector width.
            return new Choice(byWidth, String.format("by vector width, %d lanes: not compiled within %d ms",
                    VectorKernels.lanes(), ms));
        }
        final boolean wide = gflops[1] < gflops[0] * 1.05;
        return new Choice(wide, String.format("measured in %d ms: wide %.1f, narrow %.1f GFLOP/s", ms, gflops[0],
                gflops[1]));
    }

    /** Below this, a measurement timed code the JIT had not compiled yet. */
    private static final double PLAUSIBLE_GFLOPS = 3;

    /** Rows and columns of the warm-up's products: whole main tiles of both sets. */
    private static final int M = 48;
    private static final int N = 96;
    /** Steps of the reduction in most of the warm-up's products: compilation counts calls, not their length. */
    private static final int WARM_K = 16;
    /** A reduction of more than one cache block, the longest product of a tour. */
    private static final int LONG_K = 264;
    /** Floats in each scratch operand: room for the long reduction over 512 columns. */
    private static final int BIG = LONG_K * 512;
    private static final int WIDE_B = 512;

    /** Give up waiting for the JIT after this long. */
    private static final long WARM_UP_LIMIT_NANOS = 1_000_000_000L;

    /**
     * GFLOP/s of the wide set [0] and the narrow set [1] over a tour of {@link #tour}, the median of
     * five tours each, alternating, after both have been compiled; or null if the JIT had not
     * compiled them within {@value #WARM_UP_LIMIT_NANOS} ns.
     *
     * <p>What is timed is the tour the warm-up ran: the same calls, so the same compiled code. (A
     * call the warm-up had not made, even of a shape it had, sometimes deoptimized one set for the
     * whole measurement.)
     */
    private static double[] measure() {
        final float[][] ops = operands();
        final float[] a = ops[0];
        final float[] b = ops[1];
        final float[] c = ops[2];
        final float[] bias = ops[3];
        final long deadline = System.nanoTime() + WARM_UP_LIMIT_NANOS;
        if (!compile(true, deadline) || !compile(false, deadline)) {
            return null;
        }
        final int rounds = 5;
        final long[][] times = new long[2][rounds];
        for (int r = 0; r < rounds; r++) {
            for (int set = 0; set < 2; set++) {
                times[set][r] = tour(set == 0, true, a, b, c, bias);
            }
        }
        java.util.Arrays.sort(times[0]);
        java.util.Arrays.sort(times[1]);
        final double flops = tourFlops();
        return new double[] {flops / Math.max(1, times[0][rounds / 2]), flops / Math.max(1, times[1][rounds / 2])};
    }

    /** Scratch operands a, b, c and bias for {@link #tour}. */
    static float[][] operands() {
        final float[][] ops = new float[4][BIG];
        for (int i = 0; i < BIG; i++) {
            ops[0][i] = (i % 7) * 0.125f - 0.375f;
            ops[1][i] = (i % 5) * 0.25f - 0.5f;
            ops[3][i] = (i % 3) * 0.5f;
        }
        return ops;
    }

    /**
     * Runs tours of one set until 10 in a row take no more than 1.25x the fastest (compiled), or
     * until {@code deadline}; answers whether it got there.
     */
    static boolean compile(boolean wide, long deadline) {
        final float[][] ops = operands();
        long best = Long.MAX_VALUE;
        int steady = 0;
        for (int t = 0; steady < 10; t++) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            final long ns = tour(wide, t % 4 == 0, ops[0], ops[1], ops[2], ops[3]);
            if (t % 4 != 0) {
                best = Math.min(best, ns);
                steady = ns * 4 <= best * 5 ? steady + 1 : 0;
            }
        }
        return true;
    }

    /**
     * One tour: every path of the product (bias or none, flushing or not, one block of the
     * reduction or several, packed operands, column and row remainders, the four-vector and
     * narrower-than-a-vector batches, several row blocks). Every branch is taken while the JIT
     * profiles, because C2 compiles a branch never taken as a trap that deoptimizes the method when
     * it is first taken, back to the interpreter, where the Vector API allocates and runs a hundred
     * times slower until the method is compiled again. Answers its nanoseconds.
     */
    static long tour(boolean wide, boolean withLong, float[] a, float[] b, float[] c, float[] bias) {
        final int lanes = VectorKernels.lanes();
        final int k = WARM_K;
        final long t0 = System.nanoTime();
        VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, k, 1, b, N, c, N, null);
        VectorKernels.gemm(wide, false, 0, M, 0, N, k, a, k, 1, b, N, c, N, bias);
        VectorKernels.gemm(wide, false, 0, 4 * M + 7, 0, 7 * lanes + 5, k, a, k, 1, b, 8 * lanes, c, 8 * lanes, null);
        // row remainders and two row blocks; 7 vectors and a tail; 5 vectors
        VectorKernels.gemm(wide, true, 0, 4 * M + 7, 0, 7 * lanes + 5, k, a, k, 1, b, 8 * lanes, c, 8 * lanes, bias);
        VectorKernels.gemm(wide, true, 3, M + 3, 0, 5 * lanes, k, a, k, 1, b, 5 * lanes, c, 5 * lanes, null);
        // a batch of four vectors; narrower than one vector
        VectorKernels.gemm(wide, true, 0, M + 1, 0, 4 * lanes, k, a, k, 1, b, 4 * lanes, c, 4 * lanes, bias);
        VectorKernels.gemm(wide, true, 0, 9, 1, 1 + lanes / 2, k, a, k, 1, b, lanes, c, lanes, null);
        // B and A packed (strides of 512 floats)
        VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, k, 1, b, WIDE_B, c, WIDE_B, bias);
        VectorKernels.gemm(wide, true, 0, M, 0, N, k, a, 1, WIDE_B, b, N, c, N, null);
        if (withLong) {
            // several blocks of the reduction: the partial sums stored and reloaded
            VectorKernels.gemm(wide, true, 0, M, 0, N, LONG_K, a, LONG_K, 1, b, N, c, N, bias);
        }
        return System.nanoTime() - t0;
    }

    /** FLOPs of a tour with the long product. */
    private static double tourFlops() {
        final int lanes = VectorKernels.lanes();
        final double k = WARM_K;
        // Multiply-adds of each call of the tour, in order; two FLOPs each.
        double f = 2.0 * M * N * k + 2 * (4.0 * M + 7) * (7 * lanes + 5) * k + M * 5.0 * lanes * k
                + (M + 1) * 4.0 * lanes * k + 9.0 * (lanes / 2) * k + 2.0 * M * N * k;
        f += (double) M * N * LONG_K;
        return 2 * f;
    }
}
