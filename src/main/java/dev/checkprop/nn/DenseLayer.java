package dev.checkprop.nn;

/**
 * A dense layer: z = W a<sup>l-1</sup> + b, a<sup>l</sup> = f(z), W of shape {@code [nOut, nIn]} stored
 * row-major (one row per output neuron). Its state is a<sup>l</sup> alone: f' is recovered from the
 * output ({@link Activation}). Model-file kind {@code dense}.
 *
 * <p>{@link #weights()} and {@link #bias()} return the backing arrays (as fastutil's
 * {@code elements()} does) so that optimizers update them in place without copying.
 */
public final class DenseLayer extends AffineLayer {

    /**
     * @param weights row-major {@code [nOut, nIn]}; adopted, not copied
     * @param bias    {@code [nOut]}; adopted, not copied
     * @throws IllegalArgumentException on a width below 1 or arrays of the wrong length
     */
    public DenseLayer(int nIn, int nOut, Activation activation, float[] weights, float[] bias) {
        super(nIn, nOut, activation, weights, bias, false);
    }

    @Override
    public String kind() {
        return "dense";
    }

    @Override
    public String describe() {
        return "dense " + activation.fileName();
    }

    @Override
    public DenseLayer copy() {
        return new DenseLayer(nIn, nOut, activation, weights.clone(), bias.clone());
    }
}
