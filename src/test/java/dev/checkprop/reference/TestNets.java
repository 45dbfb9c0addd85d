package dev.checkprop.reference;

import dev.checkprop.hvp.Directions;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Seeded networks, batches and directions for the tests: the one fixture class of the gradient,
 * curvature, plan and layer tests. Everything is a pure function of its seeds.
 */
public final class TestNets {

    private TestNets() {
    }

    /** A case: a network, a batch and its loss. */
    public record Case(String name, Network net, Batch data, Loss loss) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** {@code depth} dense layers: {@code depth - 1} hidden ones of {@code width}, then {@code outWidth} outputs. */
    public static Network chain(int inputWidth, int depth, int width, Activation hidden, int outWidth, Activation out, long seed) {
        Network.Builder b = Network.builder(inputWidth);
        if (depth > 1) {
            b.dense(depth - 1, width, hidden);
        }
        return b.dense(outWidth, out).build(seed);
    }

    /**
     * Sets every bias (a LayerNorm's &beta; included) to a small seeded value, so that bias paths are
     * exercised (the builder sets b = 0).
     */
    public static Network withRandomBias(Network net, long seed) {
        for (int l = 1; l <= net.depth(); l++) {
            float[] bias = net.layer(l).bias();
            for (int o = 0; o < bias.length; o++) {
                bias[o] = 0.2f * (2f * Seeds.uniform(seed, 1000 + l, o) - 1f);
            }
        }
        return net;
    }

    /** {@code count} floats uniform in [-scale, scale). */
    public static float[] uniform(int count, long seed, long stream, float scale) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = scale * (2f * Seeds.uniform(seed, stream, i) - 1f);
        }
        return x;
    }

    /** A regression batch of {@code n} samples: inputs and targets uniform in [-1, 1). */
    public static Batch regression(Network net, int n, long seed) {
        return Batch.regression(uniform(n * net.inputWidth(), seed, 1, 1f), net.inputWidth(),
                uniform(n * net.outputWidth(), seed, 2, 1f), net.outputWidth());
    }

    /** A classification batch of {@code n} samples: inputs uniform in [-1, 1), seeded labels. */
    public static Batch classification(Network net, int n, long seed) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) Long.remainderUnsigned(Seeds.bits(seed, 3, i), net.outputWidth());
        }
        return Batch.classification(uniform(n * net.inputWidth(), seed, 1, 1f), net.inputWidth(), labels);
    }

    /** A regression or classification batch, as the loss needs. */
    public static Batch batch(Network net, Loss loss, int n, long seed) {
        return loss == Loss.MSE ? regression(net, n, seed) : classification(net, n, seed);
    }

    /** A dense chain with the given hidden activation; mse, so the output may be any activation. */
    public static Case dense(Activation hidden, Activation out, int batch) {
        Network net = withRandomBias(Network.builder(5).dense(2, 7, hidden).dense(3, out).build(11 + hidden.ordinal()), 4);
        return new Case("dense " + hidden.fileName() + " -> " + out.fileName() + ", mse", net, regression(net, batch, 5), Loss.MSE);
    }

    /** Dense, residual and dropout layers with every activation. */
    public static Network mixed(long seed) {
        return withRandomBias(Network.builder(6).dense(8, Activation.TANH).residual(2, Activation.TANH).dropout(0.25f)
                .residual(1, Activation.SIGMOID).dense(7, Activation.RELU).residual(1, Activation.RELU).dropout(0.5f)
                .residual(1, Activation.IDENTITY).dense(8, Activation.SIGMOID).dense(4, Activation.IDENTITY).build(seed), seed + 1);
    }

    public static Case mixedMse(int batch) {
        Network net = mixed(21);
        return new Case("mixed dense/residual/dropout, mse", net, regression(net, batch, 6), Loss.MSE);
    }

    public static Case mixedSoftmax(int batch) {
        Network net = mixed(22);
        return new Case("mixed dense/residual/dropout, softmax-ce", net, classification(net, batch, 7), Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /** A direction with elements uniform in [-1, 1). */
    public static Gradients direction(Network net, long seed) {
        return Directions.uniform(net, seed);
    }

    /**
     * A LayerNorm of {@code n} features with seeded &gamma; uniform in [0.5, 1.5) and &beta; in
     * [-0.2, 0.2), so that neither is the identity's 1 or 0 (which would hide a missing &gamma; or &beta; term).
     */
    public static LayerNormLayer layerNorm(int n, long seed, float eps) {
        float[] gamma = uniform(n, seed, 2000, 0.5f);
        for (int u = 0; u < n; u++) {
            gamma[u] += 1f;
        }
        return new LayerNormLayer(n, gamma, uniform(n, seed, 2001, 0.2f), eps);
    }

    /**
     * Answers {@code net} with a seeded {@link #layerNorm} inserted after each of the given layer
     * positions (0: before layer 1; {@code net.depth()}: after the last), in increasing order.
     */
    public static Network withLayerNorms(Network net, long seed, int... after) {
        int[] sorted = after.clone();
        Arrays.sort(sorted);
        List<Layer> layers = new ArrayList<>();
        int next = 0;
        for (int l = 0; l <= net.depth(); l++) {
            if (l > 0) {
                layers.add(net.layer(l));
            }
            while (next < sorted.length && sorted[next] == l) {
                layers.add(layerNorm(net.width(l), seed + 31L * next, LayerNormLayer.DEFAULT_EPS));
                next++;
            }
        }
        if (next != sorted.length) {
            throw new IllegalArgumentException("positions " + Arrays.toString(after) + " beyond depth " + net.depth());
        }
        return new Network(layers);
    }

    /**
     * The mixed network with LayerNorm: dense &rarr; residual &rarr; LayerNorm &rarr; dropout &rarr;
     * dense &rarr; LayerNorm &rarr; dense, widths {@code in -> a -> a -> a -> a -> b -> b -> out}, biases
     * (and &beta;) seeded, &gamma; seeded.
     */
    public static Network layerNormMixed(int in, int a, int b, int out, Activation f, Activation g, Activation last,
                                         float dropout, long seed) {
        Network base = Network.builder(in).dense(a, f).residual(1, f).dropout(dropout).dense(b, g).dense(out, last).build(seed);
        return withRandomBias(withLayerNorms(base, seed + 7, 2, 4), seed + 1);
    }

    /** {@link #layerNormMixed} at widths 6 -> 9 -> 9 -> 9 -> 9 -> 12 -> 12 -> 4, tanh and sigmoid. */
    public static Network layerNormMixed(long seed) {
        return layerNormMixed(6, 9, 12, 4, Activation.TANH, Activation.SIGMOID, Activation.IDENTITY, 0.25f, seed);
    }

    public static Case layerNormMse(int batch) {
        Network net = layerNormMixed(23);
        return new Case("dense/residual/layernorm/dropout, mse", net, regression(net, batch, 8), Loss.MSE);
    }

    public static Case layerNormSoftmax(int batch) {
        Network net = layerNormMixed(24);
        return new Case("dense/residual/layernorm/dropout, softmax-ce", net, classification(net, batch, 9),
                Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /**
     * LayerNorm in the awkward places: first (l = 1, no gradient below, R{a<sup>0</sup>} = 0), twice in a
     * row, right after dropout, and last (its output is the loss's input).
     */
    public static Network layerNormEdges(long seed) {
        Network base = Network.builder(7).dense(10, Activation.TANH).dropout(0.3f).residual(1, Activation.SIGMOID)
                .dense(5, Activation.IDENTITY).build(seed);
        return withRandomBias(withLayerNorms(base, seed + 3, 0, 2, 2, 4), seed + 1);
    }
}
