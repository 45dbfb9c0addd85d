package dev.checkprop.hvp;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;

/** Seeded networks, batches and directions for the curvature tests (after {@code exec/TestNets}). */
final class HvpNets {

    private HvpNets() {
    }

    /** A case: a network, a batch and its loss. */
    record Case(String name, Network net, Batch data, Loss loss) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Sets every bias to a small seeded value, so that bias paths are exercised (the builder sets b = 0). */
    static Network withRandomBias(Network net, long seed) {
        for (int l = 1; l <= net.depth(); l++) {
            float[] bias = net.layer(l).bias();
            for (int o = 0; o < bias.length; o++) {
                bias[o] = 0.2f * (2f * Seeds.uniform(seed, 1000 + l, o) - 1f);
            }
        }
        return net;
    }

    static float[] uniform(int count, long seed, long stream, float scale) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = scale * (2f * Seeds.uniform(seed, stream, i) - 1f);
        }
        return x;
    }

    static Batch regression(Network net, int n, long seed) {
        return Batch.regression(uniform(n * net.inputWidth(), seed, 1, 1f), net.inputWidth(),
                uniform(n * net.outputWidth(), seed, 2, 1f), net.outputWidth());
    }

    static Batch classification(Network net, int n, long seed) {
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) Long.remainderUnsigned(Seeds.bits(seed, 3, i), net.outputWidth());
        }
        return Batch.classification(uniform(n * net.inputWidth(), seed, 1, 1f), net.inputWidth(), labels);
    }

    /** A dense chain with the given hidden activation; mse, so the output may be any activation. */
    static Case dense(Activation hidden, Activation out, int batch) {
        Network net = withRandomBias(Network.builder(5).dense(2, 7, hidden).dense(3, out).build(11 + hidden.ordinal()), 4);
        return new Case("dense " + hidden.fileName() + " -> " + out.fileName() + ", mse", net, regression(net, batch, 5), Loss.MSE);
    }

    /** Dense, residual and dropout layers with every activation. */
    static Network mixed(long seed) {
        return withRandomBias(Network.builder(6).dense(8, Activation.TANH).residual(2, Activation.TANH).dropout(0.25f)
                .residual(1, Activation.SIGMOID).dense(7, Activation.RELU).residual(1, Activation.RELU).dropout(0.5f)
                .residual(1, Activation.IDENTITY).dense(8, Activation.SIGMOID).dense(4, Activation.IDENTITY).build(seed), seed + 1);
    }

    static Case mixedMse(int batch) {
        Network net = mixed(21);
        return new Case("mixed dense/residual/dropout, mse", net, regression(net, batch, 6), Loss.MSE);
    }

    static Case mixedSoftmax(int batch) {
        Network net = mixed(22);
        return new Case("mixed dense/residual/dropout, softmax-ce", net, classification(net, batch, 7), Loss.SOFTMAX_CROSS_ENTROPY);
    }

    /** A direction with elements uniform in [-1, 1). */
    static Gradients direction(Network net, long seed) {
        return Directions.uniform(net, seed);
    }
}
