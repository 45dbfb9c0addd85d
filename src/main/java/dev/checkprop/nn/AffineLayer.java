package dev.checkprop.nn;

import dev.checkprop.kernel.DenseKernels;

import java.util.Objects;

/**
 * The maths shared by {@link DenseLayer} (a = f(W a<sup>in</sup> + b)) and {@link ResidualLayer}
 * (a = a<sup>in</sup> + f(W a<sup>in</sup> + b)): three products under the kernels' bit contract and an
 * element-wise activation, split among threads by output rows.
 *
 * <h2>NOTE [Backward in tasks]</h2>
 * <ul>
 * <li>{@code BRANCH} (residual only, by output rows): recompute h = f(W a<sup>l-1</sup> + b) &mdash; f'
 *     cannot be recovered accurately from a<sup>l</sup> &minus; a<sup>l-1</sup> &mdash; and the branch
 *     gradient g &odot; f'(h);</li>
 * <li>{@code ROWS} (by output rows), the {@linkplain #gradientHead head}, skipped when the layer above
 *     already ran it: f' applied to the incoming gradient (dense) and the bias gradient;</li>
 * <li>{@code PRODUCTS}, one task of three kinds of chunks in hand-out order: the sample-major copy
 *     of a<sup>l-1</sup>, the input gradient W<sup>T</sup>&delta; by input rows (plus the skip's identity
 *     term, and the layer below's head on the same rows while they are in cache), then the weight
 *     gradient by output rows, which waits only for the copy.</li>
 * </ul>
 * The tangent (curvature) versions are separate tasks with the R terms of the executor's notes; every
 * element is one chain of operations in the documented order, so chunking and fusing change no bits.
 * <pre>
 * forward   R{z} = (V a^(l-1) + v_b) + W R{a^(l-1)}            (R{a^0} = 0: the second product is skipped)
 *           R{a} = f'(z) &odot; R{z}  (+ R{a^(l-1)}, residual)
 * backward  R{&delta;} = R{g} &odot; f'(z) + g &odot; (f''/f')(a) &odot; R{a}       H; G keeps the first term
 *           (Cv)_W = R{&delta;} a^(l-1)T + &delta; R{a^(l-1)}T                 H; G keeps the first term
 *           (Cv)_b = &Sigma;_i R{&delta;}
 *           R{g^(l-1)} = W^T R{&delta;} + V^T &delta; (+ R{g}, residual)     H; G drops V^T &delta;
 * </pre>
 */
public abstract sealed class AffineLayer implements Layer permits DenseLayer, ResidualLayer {

    private static final int FORWARD = 0;
    private static final int ROWS = 1;
    private static final int PRODUCTS = 2;
    private static final int BRANCH = 3;
    private static final int FORWARD_R = 4;
    private static final int ROWS_R = 5;
    private static final int PRODUCTS_R = 6;
    private static final int BRANCH_R = 7;

    /** Scratch slots: the sample-major a^(l-1), the residual branch and its gradient, then the tangents' needs. */
    private static final int ROW_COPY = 0;
    private static final int BRANCH_OUT = 1;
    private static final int BRANCH_GRADIENT = 2;
    private static final int R_PRODUCT = 3;
    private static final int R_ROW_COPY = 4;
    private static final int R_WEIGHTS = 5;
    private static final int ZERO_BIAS = 6;
    private static final int R_BRANCH_OUT = 7;
    private static final int R_BRANCH_GRADIENT = 8;
    /** GELU only: z and R{z} copied out of the tape (or the recomputed branch) to the offsets of the gradient rows. */
    private static final int Z_COPY = 9;
    private static final int RZ_COPY = 10;

    final int nIn;
    final int nOut;
    final Activation activation;
    final float[] weights;
    final float[] bias;
    private final boolean skip;
    /** Whether f' needs z (GELU): a dense layer then keeps z as tape, a residual block copies it from its recomputed branch. */
    private final boolean pre;

    AffineLayer(int nIn, int nOut, Activation activation, float[] weights, float[] bias, boolean skip) {
        if (nIn < 1 || nOut < 1) {
            throw new IllegalArgumentException("layer widths must be >= 1, got [" + nOut + ", " + nIn + "]");
        }
        this.activation = Objects.requireNonNull(activation, "activation");
        if (weights.length != (long) nOut * nIn) {
            throw new IllegalArgumentException("weights of a [" + nOut + ", " + nIn + "] layer need " + (long) nOut * nIn
                    + " values, got " + weights.length);
        }
        if (bias.length != nOut) {
            throw new IllegalArgumentException("bias of a layer with " + nOut + " outputs needs " + nOut
                    + " values, got " + bias.length);
        }
        this.nIn = nIn;
        this.nOut = nOut;
        this.weights = weights;
        this.bias = bias;
        this.skip = skip;
        this.pre = activation.needsPreActivation();
    }

    /** z^l as tape (n<sub>l</sub> rows) for a dense layer whose f' needs z (GELU); a residual block recomputes z instead. */
    @Override
    public final int tapeRows() {
        return pre && !skip ? nOut : 0;
    }

    @Override
    public final int inputWidth() {
        return nIn;
    }

    @Override
    public final int outputWidth() {
        return nOut;
    }

    /** Answers f. */
    public final Activation activation() {
        return activation;
    }

    /** Answers W, row-major {@code [nOut, nIn]}: the backing array. */
    @Override
    public final float[] weights() {
        return weights;
    }

    /** Answers b: the backing array. */
    @Override
    public final float[] bias() {
        return bias;
    }

    /** Answers {@code [nOut, nIn]}. */
    @Override
    public final long[] weightShape() {
        return new long[]{nOut, nIn};
    }

    @Override
    public final long forwardFlops(int batch) {
        return 2L * batch * nOut * nIn;
    }

    @Override
    public final long forwardCost(int batch) {
        return Math.max(forwardFlops(batch), (long) batch * nOut);
    }

    /** W a + b, V a + v<sub>b</sub> and W R{a} (the last skipped for layer 1, where R{a<sup>0</sup>} = 0). */
    @Override
    public final long tangentCost(int batch, boolean firstLayer) {
        return Math.max((firstLayer ? 2 : 3) * forwardFlops(batch), (long) batch * nOut);
    }

    @Override
    public final long[] scratch(int batch, boolean curvature) {
        final long rows = (long) nIn * batch;
        final long outs = (long) nOut * batch;
        final long branch = skip ? outs : 0;
        final long z = pre ? outs : 0;
        if (!curvature) {
            return new long[]{rows, branch, branch, 0, 0, 0, 0, 0, 0, z, 0};
        }
        return new long[]{rows, branch, branch, Math.max(outs, rows), rows, (long) nOut * nIn, nOut, branch, branch, z, z};
    }

    @Override
    public final void forward(LayerContext c) {
        c.parallel(FORWARD, nOut, c.rowChunk());
    }

    @Override
    public final void forwardWithTangent(LayerContext c) {
        c.parallel(FORWARD_R, nOut, c.rowChunk());
    }

    @Override
    public final boolean hasGradientHead() {
        return !skip;
    }

    @Override
    public final boolean finishesInputRows() {
        return true;
    }

    @Override
    public final void gradientHead(LayerContext c, int u0, int u1) {
        final int n = c.samples();
        activation.backwardInPlace(c.kernels(), derivativeSource(c, u0, u1), c.gradOutput(), u0 * n, u1 * n);
        if (c.biasGradient() != null) {
            c.kernels().biasGradient(n, c.gradOutput(), c.biasGradient(), u0, u1);
        }
    }

    @Override
    public final void backward(LayerContext c) {
        if (skip) {
            c.parallel(BRANCH, nOut, c.rowChunk());
            c.countRecomputation();
            c.observe(c.scratch(BRANCH_OUT));
            c.parallel(ROWS, nOut, c.rowChunk());
        } else {
            c.observe(c.output());
            if (!c.headDone()) {
                c.parallel(ROWS, nOut, c.rowChunk());
            }
        }
        c.parallel(PRODUCTS, productChunks(c), 1);
    }

    @Override
    public final void backwardWithTangent(LayerContext c) {
        if (skip) {
            c.parallel(BRANCH_R, nOut, c.rowChunk());
            c.countRecomputation();
            c.observe(c.scratch(BRANCH_OUT));
        } else {
            c.observe(c.output());
        }
        c.parallel(ROWS_R, nOut, c.rowChunk());
        c.parallel(PRODUCTS_R, productChunks(c), 1);
    }

    /** Chunks of the products task: transposes, then input rows, then weight rows. */
    private int productChunks(LayerContext c) {
        final int l1 = c.layerIndex() > 1 ? 1 : 0;
        return l1 * chunks(c.samples(), c.sampleChunk()) + l1 * chunks(nIn, c.rowChunk()) + chunks(nOut, c.rowChunk());
    }

    private static int chunks(int extent, int size) {
        return (extent + size - 1) / size;
    }

    @Override
    public final void run(LayerContext c, int task, int from, int to) {
        switch (task) {
            case FORWARD -> forwardRows(c, from, to, false);
            case FORWARD_R -> forwardRows(c, from, to, true);
            case BRANCH -> branchRows(c, from, to, false);
            case BRANCH_R -> branchRows(c, from, to, true);
            case ROWS -> gradientRows(c, from, to);
            case ROWS_R -> gradientRowsR(c, from, to);
            case PRODUCTS -> productChunk(c, from, false);
            case PRODUCTS_R -> productChunk(c, from, true);
            default -> throw new IllegalStateException("task " + task);
        }
    }

    /** z = W a + b and a = f(z) for output rows o0..o1 (and R{a}); a residual adds its input. */
    private void forwardRows(LayerContext c, int o0, int o1, boolean r) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        final int j0 = o0 * n;
        final int j1 = o1 * n;
        final float[] in = c.input();
        final float[] out = c.output();
        k.forward(nOut, nIn, n, weights, bias, in, out, o0, o1, 0, n);
        final float[] rIn = r ? c.rInput() : null;
        final float[] rOut = r ? c.rOutput() : null;
        final int tape = nOut * n;
        if (pre && !skip) {
            System.arraycopy(out, j0, out, tape + j0, j1 - j0);
        }
        if (r) {
            rPreActivation(c, in, rIn, rOut, o0, o1);
            if (pre && !skip) {
                System.arraycopy(rOut, j0, rOut, tape + j0, j1 - j0);
            }
        }
        if (pre) {
            // R{f(z)} = f'(z) R{z} from z, while out still holds it.
            if (r) {
                activation.backwardInPlace(k, out, rOut, j0, j1);
            }
            activation.applyInPlace(k, out, j0, j1);
        } else {
            activation.applyInPlace(k, out, j0, j1);
            if (r) {
                // R{f(z)} = f'(z) R{z}, f' from the output f(z) (before a residual's skip is added).
                activation.backwardInPlace(k, out, rOut, j0, j1);
            }
        }
        if (skip) {
            addRange(out, in, j0, j1);
            if (r && rIn != null) {
                addRange(rOut, rIn, j0, j1);
            }
        }
    }

    /**
     * R{z} = (V a + v<sub>b</sub>) + W R{a} into {@code rz} for output rows o0..o1: two kernel calls and
     * one rounded addition per element, in that order; the second product is skipped when
     * {@code rIn} is null (R{a<sup>0</sup>} = 0).
     */
    private void rPreActivation(LayerContext c, float[] in, float[] rIn, float[] rz, int o0, int o1) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        k.forward(nOut, nIn, n, c.directionWeights(), c.directionBias(), in, rz, o0, o1, 0, n);
        if (rIn != null) {
            final float[] tmp = c.scratch(R_PRODUCT);
            k.forward(nOut, nIn, n, weights, c.scratch(ZERO_BIAS), rIn, tmp, o0, o1, 0, n);
            addRange(rz, tmp, o0 * n, o1 * n);
        }
    }

    /** Residual branch for output rows o0..o1: recompute h = f(W a^(l-1) + b), then g &odot; f'(h) (and its R parts). */
    private void branchRows(LayerContext c, int o0, int o1, boolean r) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        final int j0 = o0 * n;
        final int j1 = o1 * n;
        final float[] h = c.scratch(BRANCH_OUT);
        final float[] gz = c.scratch(BRANCH_GRADIENT);
        final float[] g = c.gradOutput();
        k.forward(nOut, nIn, n, weights, bias, c.input(), h, o0, o1, 0, n);
        final float[] rh = r ? c.scratch(R_BRANCH_OUT) : null;
        if (r) {
            rPreActivation(c, c.input(), c.rInput(), rh, o0, o1);
        }
        // f' from the output h, or from z for GELU (kept before h = f(z) overwrites it).
        final float[] src = pre ? c.scratch(Z_COPY) : h;
        final float[] rsrc = pre && r ? c.scratch(RZ_COPY) : rh;
        if (pre) {
            System.arraycopy(h, j0, src, j0, j1 - j0);
            if (r) {
                System.arraycopy(rh, j0, rsrc, j0, j1 - j0);
            }
        }
        activation.applyInPlace(k, h, j0, j1);
        System.arraycopy(g, j0, gz, j0, j1 - j0);
        activation.backwardInPlace(k, src, gz, j0, j1);
        if (r) {
            // R{h} = f'(z) R{z}, as the forward computed it; then R{delta} of the branch.
            final float[] rgz = c.scratch(R_BRANCH_GRADIENT);
            activation.backwardInPlace(k, src, rh, j0, j1);
            System.arraycopy(c.rGradOutput(), j0, rgz, j0, j1 - j0);
            activation.backwardInPlace(k, src, rgz, j0, j1);
            if (c.curvature() == Curvature.HESSIAN) {
                ActivationCurvature.addCurvatureTerm(k, activation, src, rsrc, g, rgz, j0, j1);
            }
        }
    }

    /** Gradient mode, rows o0..o1 of the gradient with respect to z: f' (dense) and the bias gradient. */
    private void gradientRows(LayerContext c, int o0, int o1) {
        final int n = c.samples();
        if (skip) {
            if (c.biasGradient() != null) {
                c.kernels().biasGradient(n, c.scratch(BRANCH_GRADIENT), c.biasGradient(), o0, o1);
            }
        } else {
            gradientHead(c, o0, o1);
        }
    }

    /** Curvature mode, rows o0..o1: R{&delta;} (while g is still intact), then f', and both bias parts. */
    private void gradientRowsR(LayerContext c, int o0, int o1) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        final float[] g = skip ? c.scratch(BRANCH_GRADIENT) : c.gradOutput();
        final float[] rg = skip ? c.scratch(R_BRANCH_GRADIENT) : c.rGradOutput();
        if (!skip) {
            final float[] src = derivativeSource(c, o0, o1);
            final float[] rsrc = pre ? tapeCopy(c.rOutput(), c.scratch(RZ_COPY), n, o0, o1) : c.rOutput();
            // Before delta turns from g into g (.) f': the curvature term needs g.
            activation.backwardInPlace(k, src, rg, o0 * n, o1 * n);
            if (c.curvature() == Curvature.HESSIAN) {
                ActivationCurvature.addCurvatureTerm(k, activation, src, rsrc, g, rg, o0 * n, o1 * n);
            }
            activation.backwardInPlace(k, src, g, o0 * n, o1 * n);
        }
        if (c.biasGradient() != null) {
            k.biasGradient(n, g, c.biasGradient(), o0, o1);
        }
        k.biasGradient(n, rg, c.productBias(), o0, o1);
    }

    /**
     * What f' is computed from for output rows o0..o1 of a dense layer: its output a, or for GELU z,
     * copied from the tape to the rows' own offsets (the kernels index both arrays alike).
     */
    private float[] derivativeSource(LayerContext c, int o0, int o1) {
        return pre ? tapeCopy(c.output(), c.scratch(Z_COPY), c.samples(), o0, o1) : c.output();
    }

    /** Copies rows o0..o1 of the tape after a state's n<sub>l</sub> output rows into {@code dst} at the rows' offsets. */
    private float[] tapeCopy(float[] state, float[] dst, int n, int o0, int o1) {
        System.arraycopy(state, (nOut + o0) * n, dst, o0 * n, (o1 - o0) * n);
        return dst;
    }

    /** One chunk of the products task, in hand-out order: a transpose, an input-gradient chunk or a weight-gradient chunk. */
    private void productChunk(LayerContext c, int chunk, boolean r) {
        final int n = c.samples();
        final int l = c.layerIndex();
        final int rowChunk = c.rowChunk();
        final int sampleChunk = c.sampleChunk();
        final int sampleChunks = l > 1 ? chunks(n, sampleChunk) : 0;
        final int inputChunks = l > 1 ? chunks(nIn, rowChunk) : 0;
        if (chunk < sampleChunks) {
            final int s0 = chunk * sampleChunk;
            final int s1 = Math.min(n, s0 + sampleChunk);
            DenseKernels.transpose(nIn, n, c.input(), c.scratch(ROW_COPY), s0, s1);
            if (r && c.curvature() == Curvature.HESSIAN) {
                DenseKernels.transpose(nIn, n, c.rInput(), c.scratch(R_ROW_COPY), s0, s1);
            }
            c.taskCounter().incrementAndGet();
        } else if (chunk < sampleChunks + inputChunks) {
            final int k0 = (chunk - sampleChunks) * rowChunk;
            final int k1 = Math.min(nIn, k0 + rowChunk);
            if (r) {
                inputRowsR(c, k0, k1);
            } else {
                inputRows(c, k0, k1);
            }
        } else {
            // By the time a thread takes a weight chunk every transpose chunk has been taken, so the
            // wait for the last one to finish is short or nothing.
            while (c.taskCounter().get() < sampleChunks) {
                Thread.onSpinWait();
            }
            final int o0 = (chunk - sampleChunks - inputChunks) * rowChunk;
            final int o1 = Math.min(nOut, o0 + rowChunk);
            if (r) {
                weightRowsR(c, o0, o1);
            } else {
                weightRows(c, o0, o1);
            }
        }
    }

    /** The gradient with respect to z: in place in g for a dense layer, beside it for a residual one. */
    private float[] delta(LayerContext c) {
        return skip ? c.scratch(BRANCH_GRADIENT) : c.gradOutput();
    }

    private void inputRows(LayerContext c, int k0, int k1) {
        final int n = c.samples();
        final float[] gin = c.gradInput();
        c.kernels().backwardInput(nOut, nIn, n, weights, delta(c), gin, k0, k1, 0, n);
        if (skip) {
            addRange(gin, c.gradOutput(), k0 * n, k1 * n);
        }
        c.finishBelow(k0, k1);
    }

    private void weightRows(LayerContext c, int o0, int o1) {
        if (c.weightGradient() != null) {
            final float[] aRows = c.layerIndex() == 1 ? c.inputBySamples() : c.scratch(ROW_COPY);
            c.kernels().weightGradient(nOut, nIn, c.samples(), delta(c), aRows, c.weightGradient(), o0, o1);
        }
    }

    /** Rows k0..k1 of the gradient for a^(l-1) and its R, plus a residual block's identity terms. */
    private void inputRowsR(LayerContext c, int k0, int k1) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        final int j0 = k0 * n;
        final int j1 = k1 * n;
        final float[] g = delta(c);
        final float[] rg = skip ? c.scratch(R_BRANCH_GRADIENT) : c.rGradOutput();
        final float[] gin = c.gradInput();
        final float[] rgin = c.rGradInput();
        k.backwardInput(nOut, nIn, n, weights, g, gin, k0, k1, 0, n);
        if (skip) {
            addRange(gin, c.gradOutput(), j0, j1);
        }
        k.backwardInput(nOut, nIn, n, weights, rg, rgin, k0, k1, 0, n);
        if (c.curvature() == Curvature.HESSIAN) {
            final float[] tmp = c.scratch(R_PRODUCT);
            k.backwardInput(nOut, nIn, n, c.directionWeights(), g, tmp, k0, k1, 0, n);
            addRange(rgin, tmp, j0, j1);
        }
        if (skip) {
            addRange(rgin, c.rGradOutput(), j0, j1);
        }
    }

    /** Rows o0..o1 of the weight gradient and of the product's weight part. */
    private void weightRowsR(LayerContext c, int o0, int o1) {
        final DenseKernels k = c.kernels();
        final int n = c.samples();
        final boolean first = c.layerIndex() == 1;
        final float[] aRows = first ? c.inputBySamples() : c.scratch(ROW_COPY);
        final float[] g = delta(c);
        final float[] rg = skip ? c.scratch(R_BRANCH_GRADIENT) : c.rGradOutput();
        if (c.weightGradient() != null) {
            k.weightGradient(nOut, nIn, n, g, aRows, c.weightGradient(), o0, o1);
        }
        final float[] pw = c.productWeights();
        k.weightGradient(nOut, nIn, n, rg, aRows, pw, o0, o1);
        if (c.curvature() == Curvature.HESSIAN && !first) {
            final float[] tmp = c.scratch(R_WEIGHTS);
            k.weightGradient(nOut, nIn, n, g, c.scratch(R_ROW_COPY), tmp, o0, o1);
            for (int j = o0 * nIn; j < o1 * nIn; j++) {
                pw[j] += tmp[j];
            }
        }
    }

    /** {@code dst[j] += src[j]} for {@code j0 <= j < j1}. */
    static void addRange(float[] dst, float[] src, int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            dst[j] += src[j];
        }
    }
}
