package dev.checkprop.train;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/**
 * A network's parameter arrays in a fixed order, W<sup>1</sup>, b<sup>1</sup>, W<sup>2</sup>, ...,
 * which every optimizer walks in that order (so their results do not depend on anything else).
 */
final class Parameters {

    /** Tensor t: W of layer t/2+1 when t is even, b when odd. The network's backing arrays. */
    final float[][] tensors;
    final long count;

    Parameters(Network net) {
        tensors = new float[2 * net.depth()][];
        long n = 0;
        for (int l = 1; l <= net.depth(); l++) {
            tensors[2 * (l - 1)] = net.layer(l).weights();
            tensors[2 * (l - 1) + 1] = net.layer(l).bias();
            n += net.layer(l).weights().length + net.layer(l).bias().length;
        }
        count = n;
    }

    /** Whether tensor t gets weight decay: weights yes, biases no (decaying a bias only shifts the function). */
    static boolean decays(int t) {
        return (t & 1) == 0;
    }

    /** The gradient of tensor t. */
    static float[] gradient(Gradients g, int t) {
        return (t & 1) == 0 ? g.weights(t / 2 + 1) : g.bias(t / 2 + 1);
    }

    /** Zeroed arrays shaped like the parameters, for optimizer state. */
    float[][] zerosLike() {
        final float[][] z = new float[tensors.length][];
        for (int t = 0; t < tensors.length; t++) {
            z[t] = new float[tensors[t].length];
        }
        return z;
    }

    /**
     * Checks gradients are shaped like the parameters.
     *
     * @throws IllegalArgumentException naming the first layer that differs
     */
    void check(Gradients g) {
        if (g.depth() * 2 != tensors.length) {
            throw new IllegalArgumentException("gradients are for " + g.depth() + " layers, the optimizer's network has "
                    + tensors.length / 2);
        }
        for (int t = 0; t < tensors.length; t++) {
            if (gradient(g, t).length != tensors[t].length) {
                throw new IllegalArgumentException("gradient of layer " + (t / 2 + 1) + "'s " + (decays(t) ? "weights" : "bias")
                        + " has " + gradient(g, t).length + " values, the parameter has " + tensors[t].length);
            }
        }
    }

    /**
     * Answers the learning rate of a step as a float.
     *
     * @throws IllegalArgumentException if {@code step < 0}
     * @throws IllegalStateException    if the schedule gives a negative or non-finite rate
     */
    static float learningRate(LearningRate schedule, int step) {
        if (step < 0) {
            throw new IllegalArgumentException("step index must be >= 0, got " + step);
        }
        final double lr = schedule.at(step);
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalStateException("learning rate " + schedule + " at step " + step + " is " + lr
                    + "; it must be finite and >= 0");
        }
        return (float) lr;
    }

    /** Checks a hyperparameter is finite and within [min, max) (or [min, max] when {@code closed}). */
    static float hyper(String name, double v, double min, double max, boolean closed) {
        final boolean ok = v >= min && (closed ? v <= max : v < max) && Double.isFinite(v);
        if (!ok) {
            throw new IllegalArgumentException(name + " must be in [" + min + ", " + max + (closed ? "]" : ")") + ", got " + v);
        }
        return (float) v;
    }
}
