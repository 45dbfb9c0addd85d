package dev.checkprop.nn;

import java.util.Objects;

/**
 * One layer of the chain, of one of three {@linkplain Kind kinds}:
 * <ul>
 * <li>{@link Kind#DENSE}: z = W a<sup>in</sup> + b, a<sup>out</sup> = f(z), W of shape {@code [nOut, nIn]}
 *     stored row-major (one row per output neuron);</li>
 * <li>{@link Kind#RESIDUAL}: a<sup>out</sup> = a<sup>in</sup> + f(W a<sup>in</sup> + b) with square W;</li>
 * <li>{@link Kind#DROPOUT}: a<sup>out</sup> = a<sup>in</sup> &odot; m / (1 &minus; p), no parameters; the
 *     mask m is a pure function of (seed, step, layer, element), so a recomputed segment replays it
 *     exactly.</li>
 * </ul>
 * A layer holds its parameters and nothing else: activations live in buffers owned by the executor,
 * so the same layer serves every checkpoint plan.
 *
 * <p>{@link #weights()} and {@link #bias()} return the backing arrays (as fastutil's
 * {@code elements()} does) so that optimizers update them in place without copying.
 */
public final class DenseLayer {

    /** The kind of a layer; see the class documentation. */
    public enum Kind {
        DENSE,
        RESIDUAL,
        DROPOUT;

        /** Answers the lower-case name used in model files. */
        public String fileName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /**
         * Parses a model-file name.
         *
         * @throws IllegalArgumentException naming the value and the accepted ones
         */
        public static Kind parse(String s) {
            for (Kind k : values()) {
                if (k.fileName().equals(s)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown layer kind '" + s + "' (expected dense, residual or dropout)");
        }
    }


    private final Kind kind;
    private final float dropoutRate;
    private final long dropoutSeed;
    private final int nIn;
    private final int nOut;
    private final Activation activation;
    private final float[] weights;
    private final float[] bias;

    /**
     * @param weights row-major {@code [nOut, nIn]}; adopted, not copied
     * @param bias    {@code [nOut]}; adopted, not copied
     */
    public DenseLayer(int nIn, int nOut, Activation activation, float[] weights, float[] bias) {
        this(Kind.DENSE, nIn, nOut, activation, weights, bias, 0f, 0L);
    }

    /**
     * A residual block a<sup>out</sup> = a<sup>in</sup> + f(W a<sup>in</sup> + b).
     *
     * @param weights row-major {@code [width, width]}; adopted
     * @param bias    {@code [width]}; adopted
     */
    public static DenseLayer residual(int width, Activation activation, float[] weights, float[] bias) {
        return new DenseLayer(Kind.RESIDUAL, width, width, activation, weights, bias, 0f, 0L);
    }

    /**
     * A dropout layer of the given width, dropping each element with probability {@code rate} during
     * gradient computations (and scaling the rest by 1/(1 &minus; rate)).
     *
     * @param seed the mask seed; masks are a pure function of (seed, step, layer, element)
     * @throws IllegalArgumentException unless 0 &le; rate &lt; 1
     */
    public static DenseLayer dropout(int width, float rate, long seed) {
        if (!(rate >= 0f && rate < 1f)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + rate);
        }
        // Fresh empty arrays, not a shared constant: memory accounting counts each layer's arrays.
        return new DenseLayer(Kind.DROPOUT, width, width, Activation.IDENTITY, new float[0], new float[0], rate, seed);
    }

    private DenseLayer(Kind kind, int nIn, int nOut, Activation activation, float[] weights, float[] bias,
                       float dropoutRate, long dropoutSeed) {
        this.kind = kind;
        this.dropoutRate = dropoutRate;
        this.dropoutSeed = dropoutSeed;
        if (kind != Kind.DENSE && nIn != nOut) {
            throw new IllegalArgumentException(kind.fileName() + " layers need equal input and output widths, got ["
                    + nOut + ", " + nIn + "]");
        }
        if (kind == Kind.DROPOUT) {
            this.activation = activation;
            this.nIn = nIn;
            this.nOut = nOut;
            this.weights = weights;
            this.bias = bias;
            if (nIn < 1) {
                throw new IllegalArgumentException("layer widths must be >= 1, got " + nIn);
            }
            return;
        }
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
    }

    /** Answers the layer's kind. */
    public Kind kind() {
        return kind;
    }

    /** Answers whether the layer has parameters (dense and residual do, dropout does not). */
    public boolean hasParameters() {
        return kind != Kind.DROPOUT;
    }

    /** Answers the dropout rate p (0 for other kinds). */
    public float dropoutRate() {
        return dropoutRate;
    }

    /** Answers the dropout mask seed (0 for other kinds). */
    public long dropoutSeed() {
        return dropoutSeed;
    }

    /**
     * Answers the dropout mask's multiplier for element {@code index} of this layer's output at a
     * step: 0 with probability p, else 1/(1 &minus; p). A pure function, so recomputation replays it.
     *
     * @param layer the layer's 1-based position in the network
     */
    public float dropoutScale(long step, int layer, long index) {
        if (dropoutRate == 0f) {
            return 1f;
        }
        long stream = step * 0x100000L + layer;
        return Seeds.uniform(dropoutSeed, stream, index) < dropoutRate ? 0f : 1f / (1f - dropoutRate);
    }

    /** Answers n<sub>l-1</sub>, the input width. */
    public int inputWidth() {
        return nIn;
    }

    /** Answers n<sub>l</sub>, the output width. */
    public int outputWidth() {
        return nOut;
    }

    /** Answers f. */
    public Activation activation() {
        return activation;
    }

    /** Answers W, row-major {@code [nOut, nIn]}: the backing array. */
    public float[] weights() {
        return weights;
    }

    /** Answers b: the backing array. */
    public float[] bias() {
        return bias;
    }

    /** Answers a deep copy. */
    public DenseLayer copy() {
        return new DenseLayer(kind, nIn, nOut, activation, weights.clone(), bias.clone(), dropoutRate, dropoutSeed);
    }
}
