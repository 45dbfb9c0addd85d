package dev.checkprop.nn;

/**
 * Layer normalisation over the features of each sample, as {@code torch.nn.LayerNorm(n)} computes
 * it: for sample i, &mu; = mean<sub>u</sub> x<sub>u</sub>, &sigma;&sup2; = mean<sub>u</sub> (x<sub>u</sub> &minus; &mu;)&sup2; (biased),
 * r = 1/&radic;(&sigma;&sup2; + &epsilon;), x&#770; = (x &minus; &mu;) r, y<sub>u</sub> = &gamma;<sub>u</sub> x&#770;<sub>u</sub> + &beta;<sub>u</sub>,
 * with learnable &gamma; ({@link #weights()}, [n]) and &beta; ({@link #bias()}, [n]). Model-file kind
 * {@code layernorm}, with optional {@code layers.{l}.eps} in the metadata (default 1e-5).
 *
 * <h2>NOTE [Tape]</h2>
 * The backward needs &mu; and r per sample. They are kept as tape, two rows after y in the state
 * ({@link #tapeRows()} = 2, so 2N floats per state, which planners and memory predictions count),
 * rather than recomputed from a<sup>l-1</sup>: a state then carries what its backward needs and the
 * backward does one pass less. x&#770; is recomputed in the backward from x, &mu; and r by the
 * forward's own operations, so it is bit-identical to the forward's.
 *
 * <h2>NOTE [Operations]</h2>
 * Per sample, in float, in unit order u = 0 .. n&minus;1 (so every sample's chain is fixed, whatever
 * the thread split): s = &Sigma; x<sub>u</sub>; &mu; = s / n; q = &Sigma; fma(d, d, q) with d = x &minus; &mu;;
 * r = 1 / sqrt(q / n + &epsilon;); x&#770; = (x &minus; &mu;) &middot; r; y = fma(&gamma;, x&#770;, &beta;). Backward, with
 * g&#770; = g &middot; &gamma;: A = (&Sigma; g&#770;) / n, B = (&Sigma; fma(g&#770;, x&#770;, B)) / n,
 * &part;x = r &middot; (fma(&minus;x&#770;, B, g&#770;) &minus; A); &part;&gamma;<sub>u</sub> = &Sigma;<sub>i</sub> fma(g, x&#770;, &middot;),
 * &part;&beta;<sub>u</sub> = &Sigma;<sub>i</sub> g, in sample order. Work is split by samples for the
 * per-sample reductions and by features for the parameter gradients.
 *
 * <h2>NOTE [R-operator]</h2>
 * Forward: R&mu; = mean R{x}; R&sigma;&sup2; = 2 mean (x &minus; &mu;)(R{x} &minus; R&mu;); Rr = &minus;r&sup3; R&sigma;&sup2; / 2;
 * R{x&#770;} = (R{x} &minus; R&mu;) r + (x &minus; &mu;) Rr; R{y} = V<sub>&gamma;</sub> x&#770; + &gamma; R{x&#770;} + v<sub>&beta;</sub>;
 * R&mu; and Rr are the R-tape. Backward, Hessian: R{&part;&gamma;} = &Sigma; (R{g} x&#770; + g R{x&#770;}),
 * R{&part;&beta;} = &Sigma; R{g}, and with R{g&#770;} = R{g} &gamma; + g V<sub>&gamma;</sub>,
 * R{&part;x} = Rr (g&#770; &minus; A &minus; x&#770; B) + r (R{g&#770;} &minus; RA &minus; R{x&#770;} B &minus; x&#770; RB),
 * RA = mean R{g&#770;}, RB = mean (R{g&#770;} x&#770; + g&#770; R{x&#770;}). Gauss-Newton keeps the terms linear in
 * R{g}: the backward applied to R{g}.
 */
public final class LayerNormLayer implements Layer {

    /** torch.nn.LayerNorm's default &epsilon;. */
    public static final float DEFAULT_EPS = 1e-5f;

    private static final int FORWARD = 0;
    private static final int FORWARD_R = 1;
    private static final int PARAMS = 2;
    private static final int INPUT = 3;
    private static final int PARAMS_R = 4;
    private static final int INPUT_R = 5;

    /** Scratch: per-sample sums A, B and, for curvature, RA, RB. */
    private static final int SUM_A = 0;
    private static final int SUM_B = 1;
    private static final int SUM_RA = 2;
    private static final int SUM_RB = 3;

    private final int n;
    private final float[] gamma;
    private final float[] beta;
    private final float eps;

    /**
     * @param gamma the scale &gamma;, [n]; adopted
     * @param beta  the shift &beta;, [n]; adopted
     * @param eps   &epsilon; &gt; 0
     * @throws IllegalArgumentException on a width below 1, arrays of the wrong length or a bad eps
     */
    public LayerNormLayer(int n, float[] gamma, float[] beta, float eps) {
        if (n < 1) {
            throw new IllegalArgumentException("layernorm width must be >= 1, got " + n);
        }
        if (gamma.length != n || beta.length != n) {
            throw new IllegalArgumentException("layernorm of " + n + " features needs weight and bias of " + n
                    + " values, got " + gamma.length + " and " + beta.length);
        }
        if (!(eps > 0f) || !Float.isFinite(eps)) {
            throw new IllegalArgumentException("layernorm eps must be positive and finite, got " + eps);
        }
        this.n = n;
        this.gamma = gamma;
        this.beta = beta;
        this.eps = eps;
    }

    /** A layer of {@code n} features with &gamma; = 1, &beta; = 0 and the default &epsilon;, as torch initialises it. */
    public static LayerNormLayer identity(int n) {
        final float[] g = new float[n];
        java.util.Arrays.fill(g, 1f);
        return new LayerNormLayer(n, g, new float[n], DEFAULT_EPS);
    }

    /** Answers &epsilon;. */
    public float eps() {
        return eps;
    }

    @Override
    public int inputWidth() {
        return n;
    }

    @Override
    public int outputWidth() {
        return n;
    }

    @Override
    public String kind() {
        return "layernorm";
    }

    @Override
    public float[] weights() {
        return gamma;
    }

    @Override
    public float[] bias() {
        return beta;
    }

    @Override
    public LayerNormLayer copy() {
        return new LayerNormLayer(n, gamma.clone(), beta.clone(), eps);
    }

    @Override
    public int tapeRows() {
        return 2;
    }

    @Override
    public long forwardFlops(int batch) {
        return 8L * n * batch;
    }

    @Override
    public long forwardCost(int batch) {
        return forwardFlops(batch);
    }

    @Override
    public long[] scratch(int batch, boolean curvature) {
        return curvature ? new long[]{batch, batch, batch, batch} : new long[]{batch, batch};
    }

    @Override
    public void forward(LayerContext c) {
        c.parallel(FORWARD, c.samples(), c.sampleChunk());
    }

    @Override
    public void forwardWithTangent(LayerContext c) {
        c.parallel(FORWARD_R, c.samples(), c.sampleChunk());
    }

    @Override
    public void backward(LayerContext c) {
        c.observe(c.output());
        if (c.weightGradient() != null) {
            c.parallel(PARAMS, n, c.rowChunk());
        }
        if (c.gradInput() != null) {
            c.parallel(INPUT, c.samples(), c.sampleChunk());
        }
    }

    @Override
    public void backwardWithTangent(LayerContext c) {
        c.observe(c.output());
        c.parallel(PARAMS_R, n, c.rowChunk());
        if (c.gradInput() != null) {
            c.parallel(INPUT_R, c.samples(), c.sampleChunk());
        }
    }

    @Override
    public void run(LayerContext c, int task, int from, int to) {
        switch (task) {
            case FORWARD -> forwardSamples(c, from, to, false);
            case FORWARD_R -> forwardSamples(c, from, to, true);
            case PARAMS -> paramRows(c, from, to, false);
            case PARAMS_R -> paramRows(c, from, to, true);
            case INPUT -> inputSamples(c, from, to);
            case INPUT_R -> inputSamplesR(c, from, to);
            default -> throw new IllegalStateException("task " + task);
        }
    }

    /** Samples i0..i1: y, &mu; and r (and in a tangent run R{y}, R&mu;, Rr). */
    private void forwardSamples(LayerContext c, int i0, int i1, boolean r) {
        final int s = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        final int mu = n * s;
        final int rs = (n + 1) * s;
        final float fn = n;
        for (int i = i0; i < i1; i++) {
            y[mu + i] = 0f;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            for (int i = i0; i < i1; i++) {
                y[mu + i] += x[o + i];
            }
        }
        for (int i = i0; i < i1; i++) {
            y[mu + i] = y[mu + i] / fn;
            y[rs + i] = 0f;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            for (int i = i0; i < i1; i++) {
                final float d = x[o + i] - y[mu + i];
                y[rs + i] = Math.fma(d, d, y[rs + i]);
            }
        }
        for (int i = i0; i < i1; i++) {
            y[rs + i] = 1f / (float) Math.sqrt(y[rs + i] / fn + eps);
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            final float bu = beta[u];
            for (int i = i0; i < i1; i++) {
                final float xhat = (x[o + i] - y[mu + i]) * y[rs + i];
                y[o + i] = Math.fma(gu, xhat, bu);
            }
        }
        if (r) {
            forwardTangentSamples(c, i0, i1);
        }
    }

    /** R{y}, R&mu; and Rr for samples i0..i1, from the forward's y tape (already written). */
    private void forwardTangentSamples(LayerContext c, int i0, int i1) {
        final int s = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        final float[] rx = c.rInput();
        final float[] ry = c.rOutput();
        final float[] vg = c.directionWeights();
        final float[] vb = c.directionBias();
        final int mu = n * s;
        final int rs = (n + 1) * s;
        final float fn = n;
        for (int i = i0; i < i1; i++) {
            ry[mu + i] = 0f;
            ry[rs + i] = 0f;
        }
        if (rx != null) {
            for (int u = 0; u < n; u++) {
                final int o = u * s;
                for (int i = i0; i < i1; i++) {
                    ry[mu + i] += rx[o + i];
                }
            }
            for (int i = i0; i < i1; i++) {
                ry[mu + i] = ry[mu + i] / fn;
            }
            // R var, accumulated in the Rr row, then turned into Rr.
            for (int u = 0; u < n; u++) {
                final int o = u * s;
                for (int i = i0; i < i1; i++) {
                    ry[rs + i] = Math.fma(x[o + i] - y[mu + i], rx[o + i] - ry[mu + i], ry[rs + i]);
                }
            }
            for (int i = i0; i < i1; i++) {
                final float rstd = y[rs + i];
                final float rVar = 2f * ry[rs + i] / fn;
                ry[rs + i] = -0.5f * (rstd * rstd * rstd) * rVar;
            }
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            final float vgu = vg[u];
            final float vbu = vb[u];
            for (int i = i0; i < i1; i++) {
                final float d = x[o + i] - y[mu + i];
                final float xhat = d * y[rs + i];
                final float rxhat = rx == null ? 0f : Math.fma(rx[o + i] - ry[mu + i], y[rs + i], d * ry[rs + i]);
                ry[o + i] = Math.fma(vgu, xhat, Math.fma(gu, rxhat, vbu));
            }
        }
    }

    /** Features u0..u1: &part;&gamma; and &part;&beta; (and their R parts), in sample order. */
    private void paramRows(LayerContext c, int u0, int u1, boolean r) {
        final int s = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        final float[] g = c.gradOutput();
        final float[] dg = c.weightGradient();
        final float[] db = c.biasGradient();
        final int mu = n * s;
        final int rs = (n + 1) * s;
        for (int u = u0; u < u1; u++) {
            final int o = u * s;
            if (dg != null) {
                float ag = 0f;
                float ab = 0f;
                for (int i = 0; i < s; i++) {
                    final float xhat = (x[o + i] - y[mu + i]) * y[rs + i];
                    ag = Math.fma(g[o + i], xhat, ag);
                    ab += g[o + i];
                }
                dg[u] = ag;
                db[u] = ab;
            }
            if (r) {
                final float[] rx = c.rInput();
                final float[] ry = c.rOutput();
                final float[] rg = c.rGradOutput();
                final boolean hessian = c.curvature() == Curvature.HESSIAN;
                float pg = 0f;
                float pb = 0f;
                for (int i = 0; i < s; i++) {
                    final float d = x[o + i] - y[mu + i];
                    final float xhat = d * y[rs + i];
                    float t = rg[o + i] * xhat;
                    if (hessian && rx != null) {
                        final float rxhat = Math.fma(rx[o + i] - ry[mu + i], y[rs + i], d * ry[rs + i]);
                        t = Math.fma(g[o + i], rxhat, t);
                    }
                    pg += t;
                    pb += rg[o + i];
                }
                c.productWeights()[u] = pg;
                c.productBias()[u] = pb;
            }
        }
    }

    /** Samples i0..i1 of &part;L/&part;x. */
    private void inputSamples(LayerContext c, int i0, int i1) {
        final int s = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        backwardInput(s, x, y, c.gradOutput(), c.gradInput(), c.scratch(SUM_A), c.scratch(SUM_B), i0, i1);
    }

    /**
     * &part;x = r (g&#770; &minus; A &minus; x&#770; B) for samples i0..i1 from the gradient {@code g} with respect to y:
     * the backward, and Gauss-Newton's R-backward with g = R{g}.
     */
    private void backwardInput(int s, float[] x, float[] y, float[] g, float[] dx, float[] a, float[] b, int i0, int i1) {
        final int mu = n * s;
        final int rs = (n + 1) * s;
        final float fn = n;
        for (int i = i0; i < i1; i++) {
            a[i] = 0f;
            b[i] = 0f;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            for (int i = i0; i < i1; i++) {
                final float gh = g[o + i] * gu;
                final float xhat = (x[o + i] - y[mu + i]) * y[rs + i];
                a[i] += gh;
                b[i] = Math.fma(gh, xhat, b[i]);
            }
        }
        for (int i = i0; i < i1; i++) {
            a[i] = a[i] / fn;
            b[i] = b[i] / fn;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            for (int i = i0; i < i1; i++) {
                final float gh = g[o + i] * gu;
                final float xhat = (x[o + i] - y[mu + i]) * y[rs + i];
                dx[o + i] = y[rs + i] * (Math.fma(-xhat, b[i], gh) - a[i]);
            }
        }
    }

    /** Samples i0..i1 of &part;L/&part;x (when the gradient is wanted it is needed anyway) and of its R-image. */
    private void inputSamplesR(LayerContext c, int i0, int i1) {
        final int s = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        final float[] g = c.gradOutput();
        final float[] a = c.scratch(SUM_A);
        final float[] b = c.scratch(SUM_B);
        backwardInput(s, x, y, g, c.gradInput(), a, b, i0, i1);
        if (c.curvature() != Curvature.HESSIAN) {
            backwardInput(s, x, y, c.rGradOutput(), c.rGradInput(), c.scratch(SUM_RA), c.scratch(SUM_RB), i0, i1);
            return;
        }
        final float[] rx = c.rInput();
        final float[] ry = c.rOutput();
        final float[] rg = c.rGradOutput();
        final float[] rdx = c.rGradInput();
        final float[] vg = c.directionWeights();
        final float[] ra = c.scratch(SUM_RA);
        final float[] rb = c.scratch(SUM_RB);
        final int mu = n * s;
        final int rs = (n + 1) * s;
        final float fn = n;
        for (int i = i0; i < i1; i++) {
            ra[i] = 0f;
            rb[i] = 0f;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            final float vgu = vg[u];
            for (int i = i0; i < i1; i++) {
                final float d = x[o + i] - y[mu + i];
                final float xhat = d * y[rs + i];
                final float rxhat = rx == null ? 0f : Math.fma(rx[o + i] - ry[mu + i], y[rs + i], d * ry[rs + i]);
                final float gh = g[o + i] * gu;
                final float rgh = Math.fma(rg[o + i], gu, g[o + i] * vgu);
                ra[i] += rgh;
                rb[i] = Math.fma(rgh, xhat, Math.fma(gh, rxhat, rb[i]));
            }
        }
        for (int i = i0; i < i1; i++) {
            ra[i] = ra[i] / fn;
            rb[i] = rb[i] / fn;
        }
        for (int u = 0; u < n; u++) {
            final int o = u * s;
            final float gu = gamma[u];
            final float vgu = vg[u];
            for (int i = i0; i < i1; i++) {
                final float d = x[o + i] - y[mu + i];
                final float xhat = d * y[rs + i];
                final float rxhat = rx == null ? 0f : Math.fma(rx[o + i] - ry[mu + i], y[rs + i], d * ry[rs + i]);
                final float gh = g[o + i] * gu;
                final float rgh = Math.fma(rg[o + i], gu, g[o + i] * vgu);
                final float inner = Math.fma(-xhat, b[i], gh) - a[i];
                final float rInner = ((rgh - ra[i]) - rxhat * b[i]) - xhat * rb[i];
                rdx[o + i] = Math.fma(ry[rs + i], inner, y[rs + i] * rInner);
            }
        }
    }
}
