package dev.checkprop.kernel;

/**
 * Which register-tile set {@link VectorKernels} runs on this machine, chosen once per JVM, and the
 * tour of products that gets a set compiled ({@link #compile}, used by {@code warmUp}).
 *
 * <p>The wide set (8 x 3 tiles: 24 accumulators) needs 32 vector registers, as AVX-512 has; on a
 * CPU with 16 (AVX2) C2 spills its accumulators to the stack on every step and the products run at
 * 36-49% of the FMA peak instead of 58-80% with the narrow set (4 x 2 tiles over packed operands),
 * measured on an AMD EPYC (Zen 4) with {@code -XX:UseAVX=2}; with AVX-512 the wide set is the faster one.
 * Java cannot ask how many registers the JIT may use, but on x86 512-bit vectors come with 32
 * registers and 256-bit ones with 16, so the choice ({@code -Dcheckprop.tiles=auto}, the default)
 * follows the vector width: wide for 16 float lanes, narrow otherwise; {@code wide} or
 * {@code narrow} fixes it. A measured choice (timing both sets at start-up) was built and taken
 * out: it cost 0.6-1 s of compilation, and even on a quiet machine one set was often still
 * deoptimized while it was timed, so it chose the slower set on AVX-512 (wide 5-14 GFLOP/s
 * against narrow 8-35, both far below their compiled speed). Both sets give every element the same
 * chain, so the choice changes speed and never a bit.
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
        switch (fixed) {
            case "wide":
            case "narrow":
                return new Choice("wide".equals(fixed), "-D" + PROPERTY + "=" + fixed);
            default:
                if (!"auto".equals(fixed)) {
                    System.getLogger(TileChoice.class.getName()).log(System.Logger.Level.WARNING,
                            "checkprop: -D" + PROPERTY + " must be auto, wide or narrow, got '" + fixed + "'; using auto");
                }
                // 32 vector registers come with 512-bit vectors (AVX-512); 16 with 256-bit ones on x86.
                return new Choice(VectorKernels.lanes() >= 16, "by vector width, " + VectorKernels.lanes() + " lanes");
        }
    }

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
        // Fewer rows than the wide set packs for (the row chunks of threads): the strided tiles,
        // alone and with A packed; a four-vector batch at wide strides.
        VectorKernels.gemm(wide, true, 0, 40, 0, N, k, a, k, 1, b, N, c, N, bias);
        VectorKernels.gemm(wide, true, 0, 40, 0, N, k, a, 1, WIDE_B, b, N, c, N, null);
        VectorKernels.gemm(wide, true, 0, M + 1, 0, 4 * lanes, k, a, k, 1, b, WIDE_B, c, WIDE_B, bias);
        // The executor's check of every gradient element after a step.
        if (!VectorKernels.INSTANCE.allFinite(a)) {
            throw new AssertionError("warm-up operands are finite");
        }
        if (withLong) {
            // several blocks of the reduction: the partial sums stored and reloaded
            VectorKernels.gemm(wide, true, 0, M, 0, N, LONG_K, a, LONG_K, 1, b, N, c, N, bias);
        }
        return System.nanoTime() - t0;
    }
}
