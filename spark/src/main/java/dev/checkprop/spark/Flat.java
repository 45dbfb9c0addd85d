package dev.checkprop.spark;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

/** Parameters and gradients as one flat vector, layer by layer, W then b (the optimizers' order). */
final class Flat {

    private Flat() {
    }

    static int count(Network net) {
        long n = 0;
        for (int l = 1; l <= net.depth(); l++) {
            n += net.layer(l).weights().length + net.layer(l).bias().length;
        }
        return Math.toIntExact(n);
    }

    static float[] of(Network net) {
        float[] out = new float[count(net)];
        int at = 0;
        for (int l = 1; l <= net.depth(); l++) {
            at = put(net.layer(l).weights(), out, at);
            at = put(net.layer(l).bias(), out, at);
        }
        return out;
    }

    static float[] of(Gradients g) {
        int n = 0;
        for (int l = 1; l <= g.depth(); l++) {
            n += g.weights(l).length + g.bias(l).length;
        }
        float[] out = new float[n];
        int at = 0;
        for (int l = 1; l <= g.depth(); l++) {
            at = put(g.weights(l), out, at);
            at = put(g.bias(l), out, at);
        }
        return out;
    }

    static void into(float[] flat, Network net) {
        int at = 0;
        for (int l = 1; l <= net.depth(); l++) {
            at = take(flat, at, net.layer(l).weights());
            at = take(flat, at, net.layer(l).bias());
        }
        check(flat, at);
    }

    static void into(float[] flat, Gradients g) {
        int at = 0;
        for (int l = 1; l <= g.depth(); l++) {
            at = take(flat, at, g.weights(l));
            at = take(flat, at, g.bias(l));
        }
        check(flat, at);
    }

    private static void check(float[] flat, int at) {
        if (at != flat.length) {
            throw new IllegalArgumentException("a vector of " + flat.length + " values for " + at + " parameters");
        }
    }

    private static int put(float[] a, float[] out, int at) {
        System.arraycopy(a, 0, out, at, a.length);
        return at + a.length;
    }

    private static int take(float[] flat, int at, float[] a) {
        System.arraycopy(flat, at, a, 0, a.length);
        return at + a.length;
    }
}
