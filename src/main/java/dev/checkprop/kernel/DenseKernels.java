package dev.checkprop.kernel;

/**
 * The three matrix products of a dense layer, on activations stored <em>unit-major</em>:
 * a buffer for a layer of width {@code n} and a batch of {@code N} samples holds unit {@code u} of
 * sample {@code i} at index {@code u*N + i}. Weights are row-major {@code [nOut, nIn]}, one row per
 * output neuron, as in the derivation the project follows.
 *
 * <p><b>The bit contract.</b> Every implementation computes each output element with exactly the
 * fused multiply-add chain written in the method's documentation, in the order written there, and
 * nothing else. Tiling, vector width and the split into index ranges ({@code i0..i1},
 * {@code o0..o1}) change which elements are computed together, never the chain of one element. That
 * is why the vector and scalar paths, and any number of threads, give the same bits, and why a
 * recomputed activation equals the original one exactly.
 *
 * <p>Kernels never allocate; outputs are parameters. Arrays are not checked against each other for
 * aliasing: callers pass distinct arrays for inputs and outputs.
 */
public abstract class DenseKernels {

    /** Package-private: implementations live here and are obtained from {@link Kernels}. */
    DenseKernels() {
    }

    /** Short name of the implementation ("vector" or "scalar"), as reported by the CLI. */
    public abstract String name();

    /**
     * Whether these kernels flush subnormal results to zero (the default; see {@link Subnormals}).
     * Flushing is part of each element's documented chain, done the same way on every path, so it
     * changes no bit-identity promise: only which bits.
     */
    public abstract boolean flushesSubnormals();

    /**
     * These kernels with subnormal results flushed to zero ({@code true}) or kept as strict IEEE 754
     * requires ({@code false}).
     */
    public abstract DenseKernels withSubnormals(boolean flushToZero);

    /** The register tiles this implementation runs and why they were chosen, for reports. */
    public abstract String tiles();

    /**
     * Runs the products through every path they have on small operands until the JIT has compiled
     * them, at most until {@code deadlineNanos} ({@link System#nanoTime()}), once per JVM; answers
     * whether they are compiled. Changes nothing but the time later calls take. This
     * implementation does nothing (plain Java code compiles on its own schedule, fast enough).
     */
    public boolean warmUp(long deadlineNanos) {
        return true;
    }

    /**
     * The height of the register tile the products use for a batch of {@code batch} samples: a range
     * of output rows that is a multiple of it runs on whole tiles only, which is how callers that
     * split rows among threads should cut them.
     */
    public abstract int rowGrain(int batch);

    /**
     * Forward product with bias: for every {@code o0 <= o < o1} and {@code i0 <= i < i1},
     * <pre>
     * acc = b[o]
     * for k = 0 .. nIn-1:  acc = fma(w[o*nIn + k], a[k*batch + i], acc)
     * z[o*batch + i] = acc
     * </pre>
     * Either range may be a thread's share: a split by output rows reads only those rows of
     * {@code w}, a split by batch columns only those columns of {@code a}.
     *
     * @param w weights {@code [nOut, nIn]} row-major. Not modified.
     * @param b bias {@code [nOut]}. Not modified.
     * @param a input activations, unit-major {@code [nIn, batch]}. Not modified.
     * @param z output pre-activations, unit-major {@code [nOut, batch]}. Modified (rows o0..o1, columns
     *          i0..i1 only).
     */
    public abstract void forward(int nOut, int nIn, int batch, float[] w, float[] b, float[] a, float[] z,
                                 int o0, int o1, int i0, int i1);

    /**
     * {@link #forward(int, int, int, float[], float[], float[], float[], int, int, int, int)} for all
     * output rows and batch columns {@code i0..i1}.
     */
    public final void forward(int nOut, int nIn, int batch, float[] w, float[] b, float[] a, float[] z,
                              int i0, int i1) {
        forward(nOut, nIn, batch, w, b, a, z, 0, nOut, i0, i1);
    }

    /**
     * Gradient with respect to the layer's input: for every {@code k0 <= k < k1} and {@code i0 <= i < i1},
     * <pre>
     * acc = 0
     * for o = 0 .. nOut-1:  acc = fma(w[o*nIn + k], g[o*batch + i], acc)
     * gin[k*batch + i] = acc
     * </pre>
     *
     * @param w weights {@code [nOut, nIn]}. Not modified.
     * @param g gradient with respect to z, unit-major {@code [nOut, batch]}. Not modified.
     * @param gin gradient with respect to the input, unit-major {@code [nIn, batch]}. Modified (rows
     *            k0..k1, columns i0..i1 only).
     */
    public abstract void backwardInput(int nOut, int nIn, int batch, float[] w, float[] g, float[] gin,
                                       int k0, int k1, int i0, int i1);

    /**
     * {@link #backwardInput(int, int, int, float[], float[], float[], int, int, int, int)} for all
     * input rows and batch columns {@code i0..i1}.
     */
    public final void backwardInput(int nOut, int nIn, int batch, float[] w, float[] g, float[] gin,
                                    int i0, int i1) {
        backwardInput(nOut, nIn, batch, w, g, gin, 0, nIn, i0, i1);
    }

    /**
     * Weight gradient: for every {@code o0 <= o < o1} and {@code k < nIn},
     * <pre>
     * acc = 0
     * for i = 0 .. batch-1:  acc = fma(g[o*batch + i], aRows[i*nIn + k], acc)
     * dw[o*nIn + k] = acc
     * </pre>
     * The input activations come <em>sample-major</em> ({@code aRows[i*nIn + k]}), so that the
     * innermost dimension of the product is contiguous; see {@link #transpose}.
     *
     * @param g gradient with respect to z, unit-major {@code [nOut, batch]}. Not modified.
     * @param aRows input activations, sample-major {@code [batch, nIn]}. Not modified.
     * @param dw weight gradient {@code [nOut, nIn]}. Modified (rows o0..o1 only).
     */
    public abstract void weightGradient(int nOut, int nIn, int batch, float[] g, float[] aRows, float[] dw,
                                        int o0, int o1);

    /**
     * {@code x[j] = MathF.tanh(x[j])} for {@code from <= j < to}, bit for bit as {@link MathF#tanh}.
     *
     * @param x pre-activations in, activations out. Modified.
     */
    public abstract void tanhInPlace(float[] x, int from, int to);

    /**
     * {@code x[j] = MathF.sigmoid(x[j])} for {@code from <= j < to}, bit for bit as {@link MathF#sigmoid}.
     *
     * @param x pre-activations in, activations out. Modified.
     */
    public abstract void sigmoidInPlace(float[] x, int from, int to);

    /**
     * {@code x[j] = x[j] > 0 ? x[j] : 0} for {@code from <= j < to} (so -0 and NaN become +0).
     *
     * @param x pre-activations in, activations out. Modified.
     */
    public abstract void reluInPlace(float[] x, int from, int to);

    /**
     * tanh backward from the output: {@code g[j] = g[j] * fma(-a[j], a[j], 1)}.
     *
     * @param a the layer's output. Not modified.
     * @param g gradient with respect to a in, with respect to z out. Modified.
     */
    public abstract void tanhBackward(float[] a, float[] g, int from, int to);

    /**
     * sigmoid backward from the output: {@code g[j] = g[j] * (a[j] * (1 - a[j]))}.
     *
     * @param a the layer's output. Not modified.
     * @param g gradient with respect to a in, with respect to z out. Modified.
     */
    public abstract void sigmoidBackward(float[] a, float[] g, int from, int to);

    /**
     * relu backward from the output: {@code g[j] = a[j] > 0 ? g[j] : 0}.
     *
     * @param a the layer's output. Not modified.
     * @param g gradient with respect to a in, with respect to z out. Modified.
     */
    public abstract void reluBackward(float[] a, float[] g, int from, int to);

    /**
     * {@code x[j] = MathF.gelu(x[j])} for {@code from <= j < to}, bit for bit as {@link MathF#gelu}
     * (then flushed to zero if subnormal when {@link #flushesSubnormals()}, like every element-wise
     * result).
     *
     * @param x pre-activations in, activations out. Modified.
     */
    public abstract void geluInPlace(float[] x, int from, int to);

    /**
     * GELU backward from the <em>pre-activation</em> (GELU is not invertible, so its derivative is
     * taken from z, not from the output): for {@code from <= j < to},
     * <pre>
     * g[j] = g[j] * MathF.geluDerivative(z[j])
     * </pre>
     * one rounding for the product, then flushed to zero if subnormal when
     * {@link #flushesSubnormals()}.
     *
     * @param z the layer's pre-activations. Not modified.
     * @param g gradient with respect to a in, with respect to z out. Modified.
     */
    public abstract void geluBackward(float[] z, float[] g, int from, int to);

    /**
     * The curvature term of GELU in the backward R-pass (R{&delta;} += g &odot; f''(z) &odot; R{z}): for
     * {@code from <= j < to},
     * <pre>
     * rDelta[j] = rDelta[j] + ((g[j] * MathF.geluSecondDerivative(z[j])) * rz[j])
     * </pre>
     * exactly in that order, each of the two products and the sum rounded once (no fused
     * multiply-add), then flushed to zero if subnormal when {@link #flushesSubnormals()}.
     *
     * @param z      the layer's pre-activations. Not modified.
     * @param rz     R{z}, the directional derivative of z. Not modified.
     * @param g      &part;L/&part;a, the gradient <em>before</em> multiplication by f'. Not modified.
     * @param rDelta R{g} &odot; f' in, R{&delta;} out. Modified.
     */
    public abstract void geluSecondTerm(float[] z, float[] rz, float[] g, float[] rDelta, int from, int to);

    /**
     * Whether every element of {@code x} is finite (no NaN, no infinity). A boolean, so the order in
     * which elements are read is free: this scalar version runs eight independent chains of
     * {@code v - v} (0 for a finite float, NaN otherwise) so that the adder's latency does not set
     * the pace; the vector kernels override it.
     */
    public boolean allFinite(float[] x) {
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = 0;
        for (; i + 4 <= x.length; i += 4) {
            s0 += x[i] - x[i];
            s1 += x[i + 1] - x[i + 1];
            s2 += x[i + 2] - x[i + 2];
            s3 += x[i + 3] - x[i + 3];
        }
        for (; i < x.length; i++) {
            s0 += x[i] - x[i];
        }
        return s0 + s1 + s2 + s3 == 0f;
    }

    /**
     * Bias gradient: {@code db[o] = ((g[o*batch] + g[o*batch+1]) + ...) + g[o*batch+batch-1]}, a plain
     * left-to-right sum starting from 0, for {@code o0 <= o < o1}, then flushed to zero if subnormal
     * when {@link #flushesSubnormals()}.
     *
     * @param g gradient with respect to z, unit-major. Not modified.
     * @param db bias gradient. Modified (entries o0..o1).
     */
    public final void biasGradient(int batch, float[] g, float[] db, int o0, int o1) {
        final boolean flush = flushesSubnormals();
        int o = o0;
        // Four rows at a time: four independent chains, each still the plain left-to-right sum of
        // its row, so the adder's latency (not its throughput) no longer sets the pace.
        for (; o + 4 <= o1; o += 4) {
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            final int b0 = o * batch;
            final int b1 = b0 + batch;
            final int b2 = b1 + batch;
            final int b3 = b2 + batch;
            for (int i = 0; i < batch; i++) {
                s0 += g[b0 + i];
                s1 += g[b1 + i];
                s2 += g[b2 + i];
                s3 += g[b3 + i];
            }
            db[o] = flush ? Subnormals.flush(s0) : s0;
            db[o + 1] = flush ? Subnormals.flush(s1) : s1;
            db[o + 2] = flush ? Subnormals.flush(s2) : s2;
            db[o + 3] = flush ? Subnormals.flush(s3) : s3;
        }
        for (; o < o1; o++) {
            float s = 0f;
            final int base = o * batch;
            for (int i = 0; i < batch; i++) {
                s += g[base + i];
            }
            db[o] = flush ? Subnormals.flush(s) : s;
        }
    }

    /**
     * Copies a row-major {@code [rows, cols]} matrix into its transpose {@code [cols, rows]}. Exact (a copy).
     *
     * @param src {@code [rows, cols]}. Not modified.
     * @param dst {@code [cols, rows]}. Modified.
     */
    public static void transpose(int rows, int cols, float[] src, float[] dst) {
        transpose(rows, cols, src, dst, 0, cols);
    }

    /**
     * {@link #transpose(int, int, float[], float[])} restricted to rows {@code c0..c1} of {@code dst}
     * (columns {@code c0..c1} of {@code src}), so that threads can share one transpose.
     *
     * @param src {@code [rows, cols]}. Not modified.
     * @param dst {@code [cols, rows]}. Modified (rows c0..c1 only).
     */
    public static void transpose(int rows, int cols, float[] src, float[] dst, int c0, int c1) {
        // Eight source rows at a time, so that each step writes eight consecutive floats of dst
        // (where one at a time wrote one float per line), by blocks of 256 columns, so that the
        // lines of dst those writes fill stay in L1 from one group of rows to the next. Measured
        // 2-7x faster than 32 x 32 blocks of single stores (0.4-0.6 against 0.8-4 ns per element).
        for (int cb = c0; cb < c1; cb += 256) {
            final int ce = Math.min(c1, cb + 256);
            int r0 = 0;
            for (; r0 + 8 <= rows; r0 += 8) {
                final int s0 = r0 * cols;
                final int s1 = s0 + cols;
                final int s2 = s1 + cols;
                final int s3 = s2 + cols;
                final int s4 = s3 + cols;
                final int s5 = s4 + cols;
                final int s6 = s5 + cols;
                final int s7 = s6 + cols;
                for (int c = cb; c < ce; c++) {
                    final int d = c * rows + r0;
                    dst[d] = src[s0 + c];
                    dst[d + 1] = src[s1 + c];
                    dst[d + 2] = src[s2 + c];
                    dst[d + 3] = src[s3 + c];
                    dst[d + 4] = src[s4 + c];
                    dst[d + 5] = src[s5 + c];
                    dst[d + 6] = src[s6 + c];
                    dst[d + 7] = src[s7 + c];
                }
            }
            for (int r = r0; r < rows; r++) {
                final int rowBase = r * cols;
                for (int c = cb; c < ce; c++) {
                    dst[c * rows + r] = src[rowBase + c];
                }
            }
        }
    }
}
