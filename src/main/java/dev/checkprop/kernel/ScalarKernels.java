package dev.checkprop.kernel;

/**
 * Plain-Java kernels: the fallback when the Vector API module is absent, with the bits of
 * {@link VectorKernels}. The products run on register tiles of scalar accumulators (see
 * {@link #gemm}); every element still follows its documented FMA chain. (The tests check both
 * implementations against a plain loop written from the documented chains.)
 */
final class ScalarKernels extends GemmKernels {

    /** Subnormal results flushed to zero, the default. */
    static final ScalarKernels INSTANCE = new ScalarKernels(true);
    /** Strict IEEE 754: subnormal results kept. */
    static final ScalarKernels STRICT = new ScalarKernels(false);

    private final boolean flush;

    private ScalarKernels(boolean flush) {
        this.flush = flush;
    }

    @Override
    public boolean flushesSubnormals() {
        return flush;
    }

    @Override
    public DenseKernels withSubnormals(boolean flushToZero) {
        return flushToZero ? INSTANCE : STRICT;
    }

    @Override
    public int rowGrain(int batch) {
        return 4;
    }

    @Override
    public String tiles() {
        return "4x4 scalar";
    }

    @Override
    public String name() {
        return "scalar";
    }

    /**
     * The engine of {@link GemmKernels} with 4 x 4 tiles of scalar accumulators. Each accumulator
     * lives in a register for its whole chain, so a step costs 8 loads for 16 fused multiply-adds
     * instead of the load and store around every one of them in a plain loop.
     */
    @Override
    void gemm(int m0, int m1, int n0, int n1, int kDim, float[] a, int aRow, int aCol,
              float[] b, int ldb, float[] c, int ldc, float[] bias) {
        int m = m0;
        for (; m + 4 <= m1; m += 4) {
            int n = n0;
            for (; n + 4 <= n1; n += 4) {
                tile4x4(flush, m, n, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
            }
            for (int r = m; r < m + 4; r++) {
                row(flush, r, n, n1, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
            }
        }
        for (; m < m1; m++) {
            row(flush, m, n0, n1, kDim, a, aRow, aCol, b, ldb, c, ldc, bias);
        }
    }

    /** Row {@code m}, columns {@code n0..n1}: the plain loop, for the edges of the tiles. */
    private static void row(boolean flush, int m, int n0, int n1, int kDim, float[] a, int aRow, int aCol, float[] b, int ldb,
                            float[] c, int ldc, float[] bias) {
        if (n0 >= n1) {
            return;
        }
        final int cb = m * ldc;
        final float init = bias == null ? 0f : bias[m];
        for (int n = n0; n < n1; n++) {
            c[cb + n] = init;
        }
        final int am = m * aRow;
        for (int p = 0; p < kDim; p++) {
            final float w = a[am + p * aCol];
            final int bp = p * ldb;
            for (int n = n0; n < n1; n++) {
                c[cb + n] = Math.fma(w, b[bp + n], c[cb + n]);
            }
        }
        if (flush) {
            for (int n = n0; n < n1; n++) {
                c[cb + n] = Subnormals.flush(c[cb + n]);
            }
        }
    }

    /** Rows {@code m..m+3}, columns {@code n..n+3}: sixteen chains in registers. */
    private static void tile4x4(boolean flush, int m, int n, int kDim, float[] a, int aRow, int aCol, float[] b, int ldb,
                                float[] c, int ldc, float[] bias) {
        final float i0 = bias == null ? 0f : bias[m];
        final float i1 = bias == null ? 0f : bias[m + 1];
        final float i2 = bias == null ? 0f : bias[m + 2];
        final float i3 = bias == null ? 0f : bias[m + 3];
        float s00 = i0, s01 = i0, s02 = i0, s03 = i0;
        float s10 = i1, s11 = i1, s12 = i1, s13 = i1;
        float s20 = i2, s21 = i2, s22 = i2, s23 = i2;
        float s30 = i3, s31 = i3, s32 = i3, s33 = i3;
        final int a0 = m * aRow;
        final int a1 = a0 + aRow;
        final int a2 = a1 + aRow;
        final int a3 = a2 + aRow;
        for (int p = 0; p < kDim; p++) {
            final int ap = p * aCol;
            final int bp = p * ldb + n;
            final float b0 = b[bp];
            final float b1 = b[bp + 1];
            final float b2 = b[bp + 2];
            final float b3 = b[bp + 3];
            final float w0 = a[a0 + ap];
            s00 = Math.fma(w0, b0, s00);
            s01 = Math.fma(w0, b1, s01);
            s02 = Math.fma(w0, b2, s02);
            s03 = Math.fma(w0, b3, s03);
            final float w1 = a[a1 + ap];
            s10 = Math.fma(w1, b0, s10);
            s11 = Math.fma(w1, b1, s11);
            s12 = Math.fma(w1, b2, s12);
            s13 = Math.fma(w1, b3, s13);
            final float w2 = a[a2 + ap];
            s20 = Math.fma(w2, b0, s20);
            s21 = Math.fma(w2, b1, s21);
            s22 = Math.fma(w2, b2, s22);
            s23 = Math.fma(w2, b3, s23);
            final float w3 = a[a3 + ap];
            s30 = Math.fma(w3, b0, s30);
            s31 = Math.fma(w3, b1, s31);
            s32 = Math.fma(w3, b2, s32);
            s33 = Math.fma(w3, b3, s33);
        }
        final int c0 = m * ldc + n;
        c[c0] = out(flush, s00);
        c[c0 + 1] = out(flush, s01);
        c[c0 + 2] = out(flush, s02);
        c[c0 + 3] = out(flush, s03);
        final int c1 = c0 + ldc;
        c[c1] = out(flush, s10);
        c[c1 + 1] = out(flush, s11);
        c[c1 + 2] = out(flush, s12);
        c[c1 + 3] = out(flush, s13);
        final int c2 = c1 + ldc;
        c[c2] = out(flush, s20);
        c[c2 + 1] = out(flush, s21);
        c[c2 + 2] = out(flush, s22);
        c[c2 + 3] = out(flush, s23);
        final int c3 = c2 + ldc;
        c[c3] = out(flush, s30);
        c[c3 + 1] = out(flush, s31);
        c[c3 + 2] = out(flush, s32);
        c[c3 + 3] = out(flush, s33);
    }

    @Override
    public void tanhInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = out(flush, MathF.tanh(x[j]));
        }
    }

    @Override
    public void sigmoidInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = out(flush, MathF.sigmoid(x[j]));
        }
    }

    @Override
    public void reluInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = x[j] > 0f ? x[j] : 0f;
        }
    }

    @Override
    public void tanhBackward(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = out(flush, g[j] * Math.fma(-a[j], a[j], 1f));
        }
    }

    @Override
    public void sigmoidBackward(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = out(flush, g[j] * (a[j] * (1f - a[j])));
        }
    }

    @Override
    public void reluBackward(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = a[j] > 0f ? g[j] : 0f;
        }
    }

    @Override
    public void geluInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = out(flush, MathF.gelu(x[j]));
        }
    }

    @Override
    public void geluBackward(float[] z, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = out(flush, g[j] * MathF.geluDerivative(z[j]));
        }
    }

    @Override
    public void geluSecondTerm(float[] z, float[] rz, float[] g, float[] rDelta, int from, int to) {
        for (int j = from; j < to; j++) {
            rDelta[j] = out(flush, rDelta[j] + (g[j] * MathF.geluSecondDerivative(z[j])) * rz[j]);
        }
    }

    /** A result, flushed when {@code flush}. */
    private static float out(boolean flush, float v) {
        return flush ? Subnormals.flush(v) : v;
    }
}
