package dev.checkprop.exec;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;

/** Seeded networks and batches for the tests. */
final class TestNets {

    private TestNets() {
    }

    static Network chain(int inputWidth, int depth, int width, Activation hidden, int outWidth, Activation out, long seed) {
        Network.Builder b = Network.builder(inputWidth);
        if (depth > 1) {
            b.dense(depth - 1, width, hidden);
        }
        return b.dense(outWidth, out).build(seed);
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
}
