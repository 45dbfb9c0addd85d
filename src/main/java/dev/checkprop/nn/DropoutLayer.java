package dev.checkprop.nn;

/**
 * Dropout: a<sup>l</sup> = a<sup>l-1</sup> &odot; m / (1 &minus; p) during training, the identity in
 * inference; no parameters. The mask m is a pure function of (seed, step, layer, element), so a
 * recomputed segment replays it exactly, and a curvature product sees the mask of its step held fixed.
 * Model-file kind {@code dropout}.
 */
public final class DropoutLayer implements Layer {

    private static final int FORWARD = 0;
    private static final int FORWARD_R = 1;
    private static final int BACKWARD = 2;
    private static final int BACKWARD_R = 3;

    private final int width;
    private final float rate;
    private final long seed;
    // Fresh empty arrays, not a shared constant: memory accounting counts each layer's arrays.
    private final float[] none = new float[0];
    private final float[] noBias = new float[0];

    /**
     * @param seed the mask seed
     * @throws IllegalArgumentException unless 0 &le; rate &lt; 1 and width &ge; 1
     */
    public DropoutLayer(int width, float rate, long seed) {
        if (!(rate >= 0f && rate < 1f)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
        }
        if (width < 1) {
            throw new IllegalArgumentException("layer widths must be >= 1, got " + width);
        }
        this.width = width;
        this.rate = rate;
        this.seed = seed;
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
        return "dropout";
    }

    @Override
    public String describe() {
        return "dropout " + rate;
    }

    /** Answers p. */
    public float rate() {
        return rate;
    }

    /** Answers the mask seed. */
    public long seed() {
        return seed;
    }

    @Override
    public float[] weights() {
        return none;
    }

    @Override
    public float[] bias() {
        return noBias;
    }

    @Override
    public DropoutLayer copy() {
        return new DropoutLayer(width, rate, seed);
    }

    @Override
    public long forwardCost(int batch) {
        return (long) batch * width;
    }

    /** A mask product per array: the same cost as the forward, as counted when planning. */
    @Override
    public long tangentCost(int batch, boolean firstLayer) {
        return forwardCost(batch);
    }

    @Override
    public long forwardFlops(int batch) {
        return 0;
    }

    /**
     * Answers the mask's multiplier for element {@code index} of this layer's output at a step: 0 with
     * probability p, else 1/(1 &minus; p). A pure function, so recomputation replays it.
     *
     * @param layer the layer's 1-based position in the network
     */
    public float scale(long step, int layer, long index) {
        if (rate == 0f) {
            return 1f;
        }
        long stream = step * 0x100000L + layer;
        return Seeds.uniform(seed, stream, index) < rate ? 0f : 1f / (1f - rate);
    }

    @Override
    public void forward(LayerContext c) {
        if (!c.training()) {
            System.arraycopy(c.input(), 0, c.output(), 0, width * c.samples());
            return;
        }
        c.parallel(FORWARD, width, c.rowChunk());
    }

    @Override
    public void forwardWithTangent(LayerContext c) {
        c.parallel(FORWARD_R, width, c.rowChunk());
    }

    @Override
    public void backward(LayerContext c) {
        if (c.gradInput() != null) {
            c.parallel(BACKWARD, width, c.rowChunk());
        }
    }

    @Override
    public void backwardWithTangent(LayerContext c) {
        if (c.gradInput() != null) {
            c.parallel(BACKWARD_R, width, c.rowChunk());
        }
    }

    @Override
    public void run(LayerContext c, int task, int u0, int u1) {
        switch (task) {
            case FORWARD -> mask(c, c.input(), c.output(), u0, u1);
            case FORWARD_R -> {
                mask(c, c.input(), c.output(), u0, u1);
                if (c.rInput() == null) {
                    java.util.Arrays.fill(c.rOutput(), u0 * c.samples(), u1 * c.samples(), 0f);
                } else {
                    mask(c, c.rInput(), c.rOutput(), u0, u1);
                }
            }
            case BACKWARD -> mask(c, c.gradOutput(), c.gradInput(), u0, u1);
            case BACKWARD_R -> {
                mask(c, c.gradOutput(), c.gradInput(), u0, u1);
                mask(c, c.rGradOutput(), c.rGradInput(), u0, u1);
            }
            default -> throw new IllegalStateException("task " + task);
        }
    }

    /**
     * {@code dst = src * mask} for units u0..u1 and every sample. The mask element of (sample i, unit u)
     * is indexed i&middot;width + u, independent of the batch stride and the thread split.
     */
    private void mask(LayerContext c, float[] src, float[] dst, int u0, int u1) {
        final int n = c.samples();
        final long step = c.step();
        final int l = c.layerIndex();
        for (int u = u0; u < u1; u++) {
            final int base = u * n;
            for (int i = 0; i < n; i++) {
                dst[base + i] = src[base + i] * scale(step, l, (long) i * width + u);
            }
        }
    }
}
