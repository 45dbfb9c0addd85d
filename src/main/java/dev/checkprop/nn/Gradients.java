package dev.checkprop.nn;

/**
 * &part;L/&part;W<sup>l</sup> and &part;L/&part;b<sup>l</sup> for every layer, shaped like the
 * parameters. Written (not accumulated) by each gradient computation.
 */
public final class Gradients {

    private final float[][] weights;
    private final float[][] biases;

    private Gradients(float[][] weights, float[][] biases) {
        this.weights = weights;
        this.biases = biases;
    }

    /** Answers zero gradients shaped like {@code net}'s parameters. */
    public static Gradients zerosLike(Network net) {
        float[][] w = new float[net.depth()][];
        float[][] b = new float[net.depth()][];
        for (int l = 1; l <= net.depth(); l++) {
            w[l - 1] = new float[net.layer(l).weights().length];
            b[l - 1] = new float[net.layer(l).bias().length];
        }
        return new Gradients(w, b);
    }

    /** Answers L. */
    public int depth() {
        return weights.length;
    }

    /** Answers &part;L/&part;W<sup>l</sup> (1-based l), row-major like W: the backing array. */
    public float[] weights(int l) {
        return weights[l - 1];
    }

    /** Answers &part;L/&part;b<sup>l</sup> (1-based l): the backing array. */
    public float[] bias(int l) {
        return biases[l - 1];
    }

    /** Answers whether both hold bit-identical values (signed zeros told apart; every NaN equals every NaN). */
    public boolean bitEquals(Gradients o) {
        if (o.depth() != depth()) {
            return false;
        }
        for (int l = 0; l < weights.length; l++) {
            if (!java.util.Arrays.equals(weights[l], o.weights[l]) || !java.util.Arrays.equals(biases[l], o.biases[l])) {
                return false;
            }
        }
        return true;
    }
}
