package dev.checkprop.data;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;

/**
 * Synthetic tasks, generated from a seed with {@link Seeds} and {@link StrictMath}, so that the same
 * arguments give the same bits on every JDK and nothing is downloaded.
 *
 * <p>Seeds streams used (each value is {@code Seeds.bits(seed, stream, index)}): &minus;2 teacher
 * inputs, &minus;3 the teacher's own seed, &minus;4 spiral angles, &minus;5 and &minus;6 spiral
 * noise. They are negative so as not to meet the layer streams of {@link Network.Builder#build}
 * or the epoch streams of {@link Batcher}.
 */
public final class Synthetic {

    private static final long TEACHER_INPUT_STREAM = -2L;
    private static final long TEACHER_SEED_STREAM = -3L;
    private static final long ANGLE_STREAM = -4L;
    private static final long NOISE_X_STREAM = -5L;
    private static final long NOISE_Y_STREAM = -6L;

    /** Number of turns of {@link #spirals(int, double, long)}. */
    public static final int DEFAULT_TURNS = 2;

    /** Radius where the spirals start: keeps their first points apart, where they would otherwise meet. */
    private static final double INNER_RADIUS = 0.05;

    private Synthetic() {
    }

    /** As {@link #spirals(int, int, double, long)} with {@value #DEFAULT_TURNS} turns. */
    public static Dataset spirals(int n, double noise, long seed) {
        return spirals(n, DEFAULT_TURNS, noise, seed);
    }

    /**
     * Two interleaved spirals in the plane, one per class: sample i has label {@code i % 2}. Each
     * point is at angle &theta; = 2&pi;&middot;turns&middot;&radic;u, u uniform in [0, 1) (so points
     * are evenly spread along the arc), radius r = 0.05 + 0.95&middot;&theta;/(2&pi;&middot;turns)
     * (so r grows with the angle, up to 1), and class 1 is class 0 rotated by &pi;; then independent
     * Gaussian noise of standard deviation {@code noise} is added to each coordinate. Successive
     * arms of the two classes are 0.475/turns apart, so with noise well below that (say 0.02) the
     * classes are separable: a relu MLP with two hidden layers of 32, trained with Adam on
     * mini-batches of 64 for 3000 steps, classifies 2 or 3 turns with 99&ndash;100% accuracy (tanh
     * networks of that size manage 1 turn, but need more width or steps for 2).
     *
     * @param n     number of samples, at least 2
     * @param turns turns of each spiral, at least 1
     * @param noise standard deviation of the noise, finite and at least 0
     * @throws IllegalArgumentException on a bad argument
     */
    public static Dataset spirals(int n, int turns, double noise, long seed) {
        if (n < 2) {
            throw new IllegalArgumentException("spirals need n >= 2 samples (one per class), got " + n);
        }
        if (turns < 1) {
            throw new IllegalArgumentException("spirals need turns >= 1, got " + turns);
        }
        if (!(noise >= 0) || Double.isInfinite(noise)) {
            throw new IllegalArgumentException("noise must be finite and >= 0, got " + noise);
        }
        final double maxAngle = 2 * Math.PI * turns;
        final float[] x = new float[Math.multiplyExact(n, 2)];
        final int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            final int c = i % 2;
            final double theta = maxAngle * StrictMath.sqrt(unit(Seeds.bits(seed, ANGLE_STREAM, i)));
            final double r = INNER_RADIUS + (1 - INNER_RADIUS) * theta / maxAngle;
            final double phi = theta + c * Math.PI;
            x[2 * i] = (float) (r * StrictMath.cos(phi) + noise * normal(seed, NOISE_X_STREAM, i));
            x[2 * i + 1] = (float) (r * StrictMath.sin(phi) + noise * normal(seed, NOISE_Y_STREAM, i));
            labels[i] = c;
        }
        return Dataset.adoptClassification(x, 2, labels, 2);
    }

    /**
     * The fixed random network behind {@link #teacher}: {@code depth - 1} tanh layers of
     * {@code hiddenWidth}, then an identity layer of {@code outWidth}, initialised by
     * {@link Network.Builder#build} from a seed derived from {@code seed} (so the teacher's weights
     * are not the same numbers as a student's built from the same seed). Biases are 0.
     *
     * @param depth number of layers, at least 1 (1 gives a linear teacher; then
     *              {@code hiddenWidth} is not used)
     */
    public static Network teacherNetwork(int inputWidth, int outWidth, int hiddenWidth, int depth, long seed) {
        if (depth < 1) {
            throw new IllegalArgumentException("teacher depth must be >= 1, got " + depth);
        }
        final Network.Builder b = Network.builder(inputWidth);
        if (depth > 1) {
            b.dense(depth - 1, hiddenWidth, Activation.TANH);
        }
        return b.dense(outWidth, Activation.IDENTITY).build(Seeds.bits(seed, TEACHER_SEED_STREAM, 0));
    }

    /**
     * A regression task: inputs uniform in [&minus;1, 1)<sup>inputWidth</sup>, targets the outputs
     * of {@link #teacherNetwork teacherNetwork(inputWidth, outWidth, hiddenWidth, depth, seed)}.
     *
     * <p>The outputs are computed here with a plain loop over the teacher's layers (each
     * pre-activation summed in double in index order, rounded to float, then
     * {@link Activation#apply}), not by the executor: the executor computes losses and gradients
     * and hands out no outputs, and this way the targets depend only on IEEE arithmetic.
     *
     * @param n number of samples, at least 1
     * @throws IllegalArgumentException on a bad argument
     */
    public static Dataset teacher(int n, int inputWidth, int outWidth, int hiddenWidth, int depth, long seed) {
        if (n < 1) {
            throw new IllegalArgumentException("teacher needs n >= 1 samples, got " + n);
        }
        final Network net = teacherNetwork(inputWidth, outWidth, hiddenWidth, depth, seed);
        final float[] x = new float[Math.multiplyExact(n, inputWidth)];
        for (int j = 0; j < x.length; j++) {
            x[j] = 2f * Seeds.uniform(seed, TEACHER_INPUT_STREAM, j) - 1f;
        }
        final float[] y = new float[Math.multiplyExact(n, outWidth)];
        int maxWidth = inputWidth;
        for (dev.checkprop.nn.Layer layer0 : net.layers()) {
            final DenseLayer d = (DenseLayer) layer0;
            maxWidth = Math.max(maxWidth, d.outputWidth());
        }
        float[] in = new float[maxWidth];
        float[] out = new float[maxWidth];
        for (int i = 0; i < n; i++) {
            System.arraycopy(x, i * inputWidth, in, 0, inputWidth);
            for (dev.checkprop.nn.Layer layer0 : net.layers()) {
            final DenseLayer d = (DenseLayer) layer0;
                final float[] w = d.weights();
                final int nIn = d.inputWidth();
                for (int o = 0; o < d.outputWidth(); o++) {
                    double z = d.bias()[o];
                    for (int k = 0; k < nIn; k++) {
                        z += (double) w[o * nIn + k] * in[k];
                    }
                    out[o] = d.activation().apply((float) z);
                }
                final float[] t = in;
                in = out;
                out = t;
            }
            System.arraycopy(in, 0, y, i * outWidth, outWidth);
        }
        return Dataset.adoptRegression(x, inputWidth, y, outWidth);
    }

    /**
     * A standard normal number that is a pure function of (seed, stream, index): the Box–Muller
     * transform of {@code Seeds.bits(seed, stream, 2 index)} and {@code Seeds.bits(seed, stream,
     * 2 index + 1)}, with {@link StrictMath} so the bits do not depend on the JDK.
     */
    public static double normal(long seed, long stream, long index) {
        // 1 - u lies in (0, 1], so the logarithm is finite.
        final double u1 = 1.0 - unit(Seeds.bits(seed, stream, 2 * index));
        final double u2 = unit(Seeds.bits(seed, stream, 2 * index + 1));
        return StrictMath.sqrt(-2.0 * StrictMath.log(u1)) * StrictMath.cos(2 * Math.PI * u2);
    }

    /** A double uniform in [0, 1) from the top 53 bits. */
    private static double unit(long bits) {
        return (bits >>> 11) * 0x1.0p-53;
    }
}
