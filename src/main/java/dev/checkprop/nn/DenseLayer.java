package dev.checkprop.nn;

import java.util.Objects;

/**
 * One dense layer, z = W a<sup>in</sup> + b, a<sup>out</sup> = f(z), with W of shape
 * {@code [nOut, nIn]} stored row-major (one row per output neuron). A layer holds its parameters
 * and nothing else: activations live in buffers owned by the executor, so the same layer serves
 * every checkpoint plan.
 *
 * <p>{@link #weights()} and {@link #bias()} return the backing arrays (as fastutil's
 * {@code elements()} does) so that optimizers update them in place without copying.
 */
public final class DenseLayer {

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
        return new DenseLayer(nIn, nOut, activation, weights.clone(), bias.clone());
    }
}
