package dev.checkprop.nn;

/**
 * A mini-batch: inputs x, row-major {@code [N, n0]} (sample i's features at {@code x[i*n0 + k]}),
 * and either regression targets y, row-major {@code [N, nL]}, or integer class labels {@code [N]}.
 * The factories check shapes and that every value is finite, naming the row and column of the
 * first bad value, so that a NaN never reaches a gradient. Arrays are adopted, not copied.
 */
public final class Batch {

    private final float[] x;
    private final int size;
    private final int inputWidth;
    private final float[] targets;
    private final int targetWidth;
    private final int[] labels;

    private Batch(float[] x, int size, int inputWidth, float[] targets, int targetWidth, int[] labels) {
        this.x = x;
        this.size = size;
        this.inputWidth = inputWidth;
        this.targets = targets;
        this.targetWidth = targetWidth;
        this.labels = labels;
    }

    /**
     * A batch for {@link Loss#MSE}.
     *
     * @throws IllegalArgumentException on a shape mismatch or a NaN or infinite value
     */
    public static Batch regression(float[] x, int inputWidth, float[] y, int targetWidth) {
        final int n = rows("x", x, inputWidth);
        if (targetWidth < 1 || y.length != (long) n * targetWidth) {
            throw new IllegalArgumentException("y has " + y.length + " values, expected N*nL = " + n + "*" + targetWidth);
        }
        checkFinite("x", x, inputWidth);
        checkFinite("y", y, targetWidth);
        return new Batch(x, n, inputWidth, y, targetWidth, null);
    }

    /**
     * A batch for {@link Loss#SOFTMAX_CROSS_ENTROPY}; label ranges are checked against the network
     * by {@link Loss#checkCompatible}.
     *
     * @throws IllegalArgumentException on a shape mismatch or a NaN or infinite input
     */
    public static Batch classification(float[] x, int inputWidth, int[] labels) {
        final int n = rows("x", x, inputWidth);
        if (labels.length != n) {
            throw new IllegalArgumentException("labels have " + labels.length + " entries but x has " + n + " rows");
        }
        checkFinite("x", x, inputWidth);
        return new Batch(x, n, inputWidth, null, 0, labels);
    }

    private static int rows(String name, float[] a, int width) {
        if (width < 1) {
            throw new IllegalArgumentException(name + " must have width >= 1, got " + width);
        }
        if (a.length == 0 || a.length % width != 0) {
            throw new IllegalArgumentException(name + " has " + a.length + " values, not a positive multiple of its width " + width);
        }
        return a.length / width;
    }

    static void checkFinite(String name, float[] a, int width) {
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                throw new IllegalArgumentException(name + "[" + j / width + ", " + j % width + "] is " + a[j]
                        + ": inputs must be finite");
            }
        }
    }

    /**
     * Answers samples {@code from..to-1} as a new batch (the rows are copied).
     *
     * @throws IndexOutOfBoundsException if the range is empty or outside the batch
     */
    public Batch slice(int from, int to) {
        java.util.Objects.checkFromToIndex(from, to, size);
        if (from == to) {
            throw new IndexOutOfBoundsException("empty slice " + from + ".." + to);
        }
        float[] xs = java.util.Arrays.copyOfRange(x, from * inputWidth, to * inputWidth);
        if (labels != null) {
            return new Batch(xs, to - from, inputWidth, null, 0, java.util.Arrays.copyOfRange(labels, from, to));
        }
        return new Batch(xs, to - from, inputWidth, java.util.Arrays.copyOfRange(targets, from * targetWidth, to * targetWidth),
                targetWidth, null);
    }

    /** Answers N, the number of samples. */
    public int size() {
        return size;
    }

    /** Answers n0, the width of each input row. */
    public int inputWidth() {
        return inputWidth;
    }

    /** Answers x, row-major {@code [N, n0]}: the backing array. */
    public float[] inputs() {
        return x;
    }

    /** Answers y, row-major {@code [N, nL]}, or null for a classification batch. */
    public float[] targets() {
        return targets;
    }

    /** Answers nL for a regression batch, 0 otherwise. */
    public int targetWidth() {
        return targetWidth;
    }

    /** Answers the labels, or null for a regression batch. */
    public int[] labels() {
        return labels;
    }
}
