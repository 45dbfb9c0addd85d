package dev.checkprop.kernel;

/**
 * The three products written straight from the chains documented in {@link DenseKernels}, one
 * element's chain after another with no tiling: the reference both implementations are checked
 * against, flushing or keeping subnormal results as the instance says. Element-wise functions are
 * {@link ScalarKernels}'.
 */
final class ChainReference extends DenseKernels {

    /** Subnormal results flushed to zero, like the default kernels. */
    static final ChainReference INSTANCE = new ChainReference(true);
    /** Strict IEEE 754. */
    static final ChainReference STRICT = new ChainReference(false);

    private final boolean flush;
    private final DenseKernels elementwise;

    private ChainReference(boolean flush) {
        this.flush = flush;
        this.elementwise = ScalarKernels.INSTANCE.withSubnormals(flush);
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
        return 1;
    }

    @Override
    public String tiles() {
        return "none";
    }

    private float out(float v) {
        return flush ? Subnormals.flush(v) : v;
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public void forward(int nOut, int nIn, int batch, float[] w, float[] b, float[] a, float[] z,
                        int o0, int o1, int i0, int i1) {
        for (int o = o0; o < o1; o++) {
            for (int i = i0; i < i1; i++) {
                float acc = b[o];
                for (int k = 0; k < nIn; k++) {
                    acc = Math.fma(w[o * nIn + k], a[k * batch + i], acc);
                }
                z[o * batch + i] = out(acc);
            }
        }
    }

    @Override
    public void backwardInput(int nOut, int nIn, int batch, float[] w, float[] g, float[] gin,
                              int k0, int k1, int i0, int i1) {
        for (int k = k0; k < k1; k++) {
            for (int i = i0; i < i1; i++) {
                float acc = 0f;
                for (int o = 0; o < nOut; o++) {
                    acc = Math.fma(w[o * nIn + k], g[o * batch + i], acc);
                }
                gin[k * batch + i] = out(acc);
            }
        }
    }

    @Override
    public void weightGradient(int nOut, int nIn, int batch, float[] g, float[] aRows, float[] dw, int o0, int o1) {
        for (int o = o0; o < o1; o++) {
            for (int k = 0; k < nIn; k++) {
                float acc = 0f;
                for (int i = 0; i < batch; i++) {
                    acc = Math.fma(g[o * batch + i], aRows[i * nIn + k], acc);
                }
                dw[o * nIn + k] = out(acc);
            }
        }
    }

    @Override
    public void tanhInPlace(float[] x, int from, int to) {
        elementwise.tanhInPlace(x, from, to);
    }

    @Override
    public void sigmoidInPlace(float[] x, int from, int to) {
        elementwise.sigmoidInPlace(x, from, to);
    }

    @Override
    public void reluInPlace(float[] x, int from, int to) {
        elementwise.reluInPlace(x, from, to);
    }

    @Override
    public void tanhBackward(float[] a, float[] g, int from, int to) {
        elementwise.tanhBackward(a, g, from, to);
    }

    @Override
    public void sigmoidBackward(float[] a, float[] g, int from, int to) {
        elementwise.sigmoidBackward(a, g, from, to);
    }

    @Override
    public void reluBackward(float[] a, float[] g, int from, int to) {
        elementwise.reluBackward(a, g, from, to);
    }

    @Override
    public void geluInPlace(float[] x, int from, int to) {
        elementwise.geluInPlace(x, from, to);
    }

    @Override
    public void geluBackward(float[] z, float[] g, int from, int to) {
        elementwise.geluBackward(z, g, from, to);
    }

    @Override
    public void geluSecondTerm(float[] z, float[] rz, float[] g, float[] rDelta, int from, int to) {
        elementwise.geluSecondTerm(z, rz, g, rDelta, from, to);
    }
}
