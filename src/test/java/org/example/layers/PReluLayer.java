package org.example.layers;

import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerContext;

/**
 * PReLU with a learnable slope per feature, written as a user of checkprop would write a layer: in
 * their own package, against the public {@link Layer} and {@link LayerContext} API only, with no
 * change to the executor:
 * <pre>
 * y<sub>u</sub> = x<sub>u</sub>            if x<sub>u</sub> &gt; 0
 * y<sub>u</sub> = a<sub>u</sub> x<sub>u</sub>         otherwise
 * </pre>
 * The slopes a ([n]) are the layer's {@link #weights()}; it has no bias. Its backward needs only its
 * input and its output, both live when it runs, so it keeps no tape ({@link #tapeRows()} = 0):
 * &part;x = g (x &gt; 0) or a&middot;g, &part;a<sub>u</sub> = &Sigma;<sub>i, x &le; 0</sub> g x, in sample order.
 * Every element is one fixed chain of float operations and the work is split by whole features
 * (rows), so any thread split gives the same bits.
 *
 * <p>R-operator (the kink at 0 has measure zero and is ignored, as for relu):
 * R{y} = R{x} (x &gt; 0) or a R{x} + v<sub>a</sub> x; backward, Hessian: R{&part;x} = R{g} (x &gt; 0) or
 * a R{g} + v<sub>a</sub> g, (Hv)<sub>a</sub> = &Sigma;<sub>x &le; 0</sub> (R{g} x + g R{x}); Gauss-Newton keeps the terms
 * in R{g} only.
 */
public final class PReluLayer implements Layer {

    private static final int FORWARD = 0;
    private static final int FORWARD_R = 1;
    private static final int BACKWARD = 2;
    private static final int BACKWARD_R = 3;

    private final int width;
    private final float[] slope;
    private final float[] noBias = new float[0];

    /**
     * @param slope the slopes a, [width]; adopted (optimizers update them in place)
     * @throws IllegalArgumentException on a width below 1, a wrong length or a non-finite slope
     */
    public PReluLayer(int width, float[] slope) {
        if (width < 1 || slope.length != width) {
            throw new IllegalArgumentException("prelu of width " + width + " needs " + width + " slopes, got " + slope.length);
        }
        for (float a : slope) {
            if (!Float.isFinite(a)) {
                throw new IllegalArgumentException("prelu slopes must be finite, got " + a);
            }
        }
        this.width = width;
        this.slope = slope;
    }

    /** A layer whose slopes all start at {@code a} (torch.nn.PReLU starts at 0.25). */
    public static PReluLayer withSlope(int width, float a) {
        float[] s = new float[width];
        java.util.Arrays.fill(s, a);
        return new PReluLayer(width, s);
    }

    @Override
    public int inputWidth() {
        return width;
    }

    @Override
    public int outputWidth() {
        return width;
    }

    @Override
    public String kind() {
        return "prelu";
    }

    @Override
    public float[] weights() {
        return slope;
    }

    @Override
    public float[] bias() {
        return noBias;
    }

    @Override
    public PReluLayer copy() {
        return new PReluLayer(width, slope.clone());
    }

    @Override
    public long forwardCost(int batch) {
        return (long) width * batch;
    }

    @Override
    public long forwardFlops(int batch) {
        return (long) width * batch;
    }

    @Override
    public void forward(LayerContext c) {
        c.parallel(FORWARD, width, c.rowChunk());
    }

    @Override
    public void forwardWithTangent(LayerContext c) {
        c.parallel(FORWARD_R, width, c.rowChunk());
    }

    @Override
    public void backward(LayerContext c) {
        c.observe(c.output());
        c.parallel(BACKWARD, width, c.rowChunk());
    }

    @Override
    public void backwardWithTangent(LayerContext c) {
        c.observe(c.output());
        c.parallel(BACKWARD_R, width, c.rowChunk());
    }

    @Override
    public void run(LayerContext c, int task, int u0, int u1) {
        switch (task) {
            case FORWARD -> forwardRows(c, u0, u1, false);
            case FORWARD_R -> forwardRows(c, u0, u1, true);
            case BACKWARD -> backwardRows(c, u0, u1, false);
            case BACKWARD_R -> backwardRows(c, u0, u1, true);
            default -> throw new IllegalStateException("task " + task);
        }
    }

    /** Features u0..u1 of y (and of R{y}). */
    private void forwardRows(LayerContext c, int u0, int u1, boolean r) {
        final int n = c.samples();
        final float[] x = c.input();
        final float[] y = c.output();
        final float[] rx = r ? c.rInput() : null; // null for layer 1 too: R{a^0} = 0
        final float[] ry = r ? c.rOutput() : null;
        for (int u = u0; u < u1; u++) {
            final float a = slope[u];
            final float va = r ? c.directionWeights()[u] : 0f;
            for (int j = u * n; j < (u + 1) * n; j++) {
                final boolean positive = x[j] > 0f;
                y[j] = positive ? x[j] : a * x[j];
                if (r) {
                    final float rxj = rx == null ? 0f : rx[j];
                    ry[j] = positive ? rxj : Math.fma(a, rxj, va * x[j]);
                }
            }
        }
    }

    /** Features u0..u1 of &part;a and &part;x (and of their R-images). */
    private void backwardRows(LayerContext c, int u0, int u1, boolean r) {
        final int n = c.samples();
        final float[] x = c.input();
        final float[] g = c.gradOutput();
        final float[] gin = c.gradInput(); // null for layer 1
        final float[] da = c.weightGradient(); // null when not wanted
        final boolean hessian = r && c.curvature() == Curvature.HESSIAN;
        final float[] rx = r ? c.rInput() : null;
        final float[] rg = r ? c.rGradOutput() : null;
        for (int u = u0; u < u1; u++) {
            final int o = u * n;
            final float a = slope[u];
            if (da != null) {
                float acc = 0f;
                for (int i = 0; i < n; i++) {
                    if (!(x[o + i] > 0f)) {
                        acc = Math.fma(g[o + i], x[o + i], acc);
                    }
                }
                da[u] = acc;
            }
            if (r) {
                float pa = 0f;
                for (int i = 0; i < n; i++) {
                    if (!(x[o + i] > 0f)) {
                        float t = rg[o + i] * x[o + i];
                        if (hessian && rx != null) {
                            t = Math.fma(g[o + i], rx[o + i], t);
                        }
                        pa += t;
                    }
                }
                c.productWeights()[u] = pa;
            }
            if (gin != null) {
                final float va = hessian ? c.directionWeights()[u] : 0f;
                final float[] rgin = r ? c.rGradInput() : null;
                for (int j = o; j < o + n; j++) {
                    final boolean positive = x[j] > 0f;
                    gin[j] = positive ? g[j] : a * g[j];
                    if (r) {
                        rgin[j] = positive ? rg[j] : hessian ? Math.fma(a, rg[j], va * g[j]) : a * rg[j];
                    }
                }
            }
        }
    }
}
