package dev.checkprop.kernel;

/**
 * The three products of {@link DenseKernels} as one engine, which {@link VectorKernels} and
 * {@link ScalarKernels} implement.
 *
 * <p>All three have the form {@code C(m, n) = init(m) + sum over p of A(m, p) * B(p, n)}, the chain
 * running over {@code p} ascending, with {@code B} and {@code C} row-major with contiguous
 * {@code n} and {@code A} read with arbitrary strides:
 * <pre>
 *   product         m     n     p     A(m,p)            B(p,n)              init
 *   forward         o     i     k     w[o*nIn + k]      a[k*batch + i]      b[o]
 *   backwardInput   k     i     o     w[o*nIn + k]      g[o*batch + i]      0
 *   weightGradient  o     k     i     g[o*batch + i]    aRows[i*nIn + k]    0
 * </pre>
 * An implementation tiles {@code m} and {@code n} as it likes (the vector one runs its lanes along
 * {@code n} and broadcasts {@code A}); it must give every element exactly that chain.
 */
abstract class GemmKernels extends DenseKernels {

    @Override
    public final void forward(int nOut, int nIn, int batch, float[] w, float[] b, float[] a, float[] z,
                              int o0, int o1, int i0, int i1) {
        gemm(o0, o1, i0, i1, nIn, w, nIn, 1, a, batch, z, batch, b);
    }

    @Override
    public final void backwardInput(int nOut, int nIn, int batch, float[] w, float[] g, float[] gin,
                                    int k0, int k1, int i0, int i1) {
        gemm(k0, k1, i0, i1, nOut, w, 1, nIn, g, batch, gin, batch, null);
    }

    @Override
    public final void weightGradient(int nOut, int nIn, int batch, float[] g, float[] aRows, float[] dw,
                                     int o0, int o1) {
        gemm(o0, o1, 0, nIn, batch, g, batch, 1, aRows, nIn, dw, nIn, null);
    }

    /**
     * {@code C(m, n) = init(m)}, then {@code C(m, n) = fma(A(m, p), B(p, n), C(m, n))} for {@code p}
     * ascending, for {@code m0 <= m < m1}, {@code n0 <= n < n1}; writes no other element of {@code c}.
     *
     * @param a    {@code A(m, p) = a[m*aRow + p*aCol]}
     * @param b    {@code B(p, n) = b[p*ldb + n]}
     * @param c    {@code C(m, n) = c[m*ldc + n]}
     * @param bias {@code init(m) = bias[m]}, or {@code null} for {@code init(m) = 0}
     */
    abstract void gemm(int m0, int m1, int n0, int n1, int kDim, float[] a, int aRow, int aCol,
                       float[] b, int ldb, float[] c, int ldc, float[] bias);
}
