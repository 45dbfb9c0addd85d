package dev.checkprop.kernel;

/**
 * Plain-Java kernels: the reference for the bit contract of {@link DenseKernels} and the fallback
 * when the Vector API module is absent. Loops are ordered so that the innermost one runs over a
 * contiguous index, while every element still follows its documented FMA chain.
 */
final class ScalarKernels extends DenseKernels {

    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void forward(int nOut, int nIn, int batch, float[] w, float[] b, float[] a, float[] z,
                        int o0, int o1, int i0, int i1) {
        for (int o = o0; o < o1; o++) {
            final int zb = o * batch;
            final float bias = b[o];
            for (int i = i0; i < i1; i++) {
                z[zb + i] = bias;
            }
            final int wb = o * nIn;
            for (int k = 0; k < nIn; k++) {
                final float wk = w[wb + k];
                final int ab = k * batch;
                for (int i = i0; i < i1; i++) {
                    z[zb + i] = Math.fma(wk, a[ab + i], z[zb + i]);
                }
            }
        }
    }

    @Override
    public void backwardInput(int nOut, int nIn, int batch, float[] w, float[] g, float[] gin,
                              int k0, int k1, int i0, int i1) {
        for (int k = k0; k < k1; k++) {
            final int gb = k * batch;
            for (int i = i0; i < i1; i++) {
                gin[gb + i] = 0f;
            }
            for (int o = 0; o < nOut; o++) {
                final float wk = w[o * nIn + k];
                final int ob = o * batch;
                for (int i = i0; i < i1; i++) {
                    gin[gb + i] = Math.fma(wk, g[ob + i], gin[gb + i]);
                }
            }
        }
    }

    @Override
    public void weightGradient(int nOut, int nIn, int batch, float[] g, float[] aRows, float[] dw, int o0, int o1) {
        for (int o = o0; o < o1; o++) {
            final int wb = o * nIn;
            for (int k = 0; k < nIn; k++) {
                dw[wb + k] = 0f;
            }
            final int gb = o * batch;
            for (int i = 0; i < batch; i++) {
                final float gi = g[gb + i];
                final int ab = i * nIn;
                for (int k = 0; k < nIn; k++) {
                    dw[wb + k] = Math.fma(gi, aRows[ab + k], dw[wb + k]);
                }
            }
        }
    }

    @Override
    public void tanhInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = MathF.tanh(x[j]);
        }
    }

    @Override
    public void sigmoidInPlace(float[] x, int from, int to) {
        for (int j = from; j < to; j++) {
            x[j] = MathF.sigmoid(x[j]);
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
            g[j] = g[j] * Math.fma(-a[j], a[j], 1f);
        }
    }

    @Override
    public void sigmoidBackward(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = g[j] * (a[j] * (1f - a[j]));
        }
    }

    @Override
    public void reluBackward(float[] a, float[] g, int from, int to) {
        for (int j = from; j < to; j++) {
            g[j] = a[j] > 0f ? g[j] : 0f;
        }
    }
}
