package dev.checkprop.hvp;

import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;

/**
 * Vector arithmetic on parameter-shaped vectors ({@link Gradients}: a direction v, a gradient, a
 * product C&middot;v), for conjugate gradient and for tests. Every operation walks layers 1..L, W then
 * b, elements in index order; reductions accumulate in double. So results are deterministic, and
 * nothing allocates except {@link #uniform}. Shapes are the caller's responsibility (arrays of
 * different lengths throw {@link ArrayIndexOutOfBoundsException}).
 */
public final class Directions {

    private Directions() {
    }

    /** Answers x&middot;y, accumulated in double in the fixed order. */
    public static double dot(Gradients x, Gradients y) {
        double s = 0;
        for (int l = 1; l <= x.depth(); l++) {
            s += dot(x.weights(l), y.weights(l));
            s += dot(x.bias(l), y.bias(l));
        }
        return s;
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += (double) a[j] * b[j];
        }
        return s;
    }

    /** Answers &Vert;x&Vert;<sub>2</sub>. */
    public static double norm(Gradients x) {
        return Math.sqrt(dot(x, x));
    }

    /** y = y + &alpha;x, element by element as {@code fma(α, x, y)}. */
    public static void axpy(float alpha, Gradients x, Gradients y) {
        for (int l = 1; l <= x.depth(); l++) {
            axpy(alpha, x.weights(l), y.weights(l));
            axpy(alpha, x.bias(l), y.bias(l));
        }
    }

    private static void axpy(float alpha, float[] x, float[] y) {
        for (int j = 0; j < x.length; j++) {
            y[j] = Math.fma(alpha, x[j], y[j]);
        }
    }

    /** y = x + &beta;y, element by element as {@code fma(β, y, x)} (the conjugate-gradient direction update). */
    public static void xpby(Gradients x, float beta, Gradients y) {
        for (int l = 1; l <= x.depth(); l++) {
            xpby(x.weights(l), beta, y.weights(l));
            xpby(x.bias(l), beta, y.bias(l));
        }
    }

    private static void xpby(float[] x, float beta, float[] y) {
        for (int j = 0; j < x.length; j++) {
            y[j] = Math.fma(beta, y[j], x[j]);
        }
    }

    /** x = &alpha;x. */
    public static void scale(float alpha, Gradients x) {
        for (int l = 1; l <= x.depth(); l++) {
            scale(alpha, x.weights(l));
            scale(alpha, x.bias(l));
        }
    }

    private static void scale(float alpha, float[] x) {
        for (int j = 0; j < x.length; j++) {
            x[j] *= alpha;
        }
    }

    /** dst = src. */
    public static void copy(Gradients src, Gradients dst) {
        for (int l = 1; l <= src.depth(); l++) {
            System.arraycopy(src.weights(l), 0, dst.weights(l), 0, src.weights(l).length);
            System.arraycopy(src.bias(l), 0, dst.bias(l), 0, src.bias(l).length);
        }
    }

    /** Sets every element to 0. */
    public static void zero(Gradients x) {
        for (int l = 1; l <= x.depth(); l++) {
            java.util.Arrays.fill(x.weights(l), 0f);
            java.util.Arrays.fill(x.bias(l), 0f);
        }
    }

    /** Answers the parameters of {@code net} themselves, as a vector (the backing arrays are copied). */
    public static Gradients parametersOf(Network net) {
        Gradients p = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            System.arraycopy(net.layer(l).weights(), 0, p.weights(l), 0, p.weights(l).length);
            System.arraycopy(net.layer(l).bias(), 0, p.bias(l), 0, p.bias(l).length);
        }
        return p;
    }

    /**
     * Answers a seeded direction shaped like {@code net}'s parameters, each element uniform in
     * [&minus;1, 1), a pure function of (seed, layer, index) as {@link Seeds} defines.
     */
    public static Gradients uniform(Network net, long seed) {
        Gradients v = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            float[] w = v.weights(l);
            for (int j = 0; j < w.length; j++) {
                w[j] = 2f * Seeds.uniform(seed, 2L * l, j) - 1f;
            }
            float[] b = v.bias(l);
            for (int j = 0; j < b.length; j++) {
                b[j] = 2f * Seeds.uniform(seed, 2L * l + 1, j) - 1f;
            }
        }
        return v;
    }
}
