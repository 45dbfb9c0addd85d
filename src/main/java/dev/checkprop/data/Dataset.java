package dev.checkprop.data;

import dev.checkprop.nn.Batch;

import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable in-memory dataset of N samples: inputs x, row-major {@code [N, n0]}, and either
 * regression targets y, row-major {@code [N, nOut]}, or integer class labels in {@code 0..K-1}.
 *
 * <p>Every value is checked once, here (finite inputs and targets, labels in range), so that the
 * batches cut from a dataset never need checking again. The public factories copy their arrays;
 * loaders in this package hand over freshly made arrays without a copy, which matters for
 * MNIST-sized data. Nothing hands out the backing arrays, so a dataset cannot change after it is
 * made.
 */
public final class Dataset {

    /** The Seeds stream that {@link #split} shuffles with; batch shuffles use streams 0, 1, ... (epochs). */
    static final long SPLIT_STREAM = -1L;

    private final float[] x;
    private final int size;
    private final int inputWidth;
    private final float[] y;
    private final int targetWidth;
    private final int[] labels;
    private final int classes;

    private Dataset(float[] x, int size, int inputWidth, float[] y, int targetWidth, int[] labels, int classes) {
        this.x = x;
        this.size = size;
        this.inputWidth = inputWidth;
        this.y = y;
        this.targetWidth = targetWidth;
        this.labels = labels;
        this.classes = classes;
    }

    /**
     * A regression dataset; the arrays are copied.
     *
     * @param x row-major {@code [N, inputWidth]}
     * @param y row-major {@code [N, targetWidth]}
     * @throws IllegalArgumentException on a shape mismatch, naming the sizes, or on a NaN or
     *                                  infinite value, naming its row and column
     */
    public static Dataset regression(float[] x, int inputWidth, float[] y, int targetWidth) {
        return adoptRegression(x.clone(), inputWidth, y.clone(), targetWidth);
    }

    /**
     * A classification dataset with K classes; the arrays are copied.
     *
     * @param x      row-major {@code [N, inputWidth]}
     * @param labels {@code [N]}, each in {@code 0..classes-1}
     * @throws IllegalArgumentException on a shape mismatch, a NaN or infinite input (naming its
     *                                  row and column) or a label out of range (naming the sample)
     */
    public static Dataset classification(float[] x, int inputWidth, int[] labels, int classes) {
        return adoptClassification(x.clone(), inputWidth, labels.clone(), classes);
    }

    /**
     * A classification dataset whose number of classes is one more than the largest label; the
     * arrays are copied.
     *
     * @throws IllegalArgumentException as {@link #classification(float[], int, int[], int)}, or on a
     *                                  negative label
     */
    public static Dataset classification(float[] x, int inputWidth, int[] labels) {
        return classification(x, inputWidth, labels, inferClasses(labels));
    }

    /**
     * The samples of a batch, as a dataset (arrays copied); for labels, K is one more than the
     * largest label.
     *
     * @throws IllegalArgumentException on a negative label
     */
    public static Dataset of(Batch batch) {
        if (batch.labels() != null) {
            return classification(batch.inputs(), batch.inputWidth(), batch.labels());
        }
        return regression(batch.inputs(), batch.inputWidth(), batch.targets(), batch.targetWidth());
    }

    /** As {@link #regression}, without a copy: for loaders that made the arrays themselves. */
    static Dataset adoptRegression(float[] x, int inputWidth, float[] y, int targetWidth) {
        final int n = rows("x", x, inputWidth);
        if (targetWidth < 1) {
            throw new IllegalArgumentException("y must have width >= 1, got " + targetWidth);
        }
        if (y.length != (long) n * targetWidth) {
            throw new IllegalArgumentException("y has " + y.length + " values, expected N*nOut = " + n + "*" + targetWidth);
        }
        checkFinite("x", x, inputWidth);
        checkFinite("y", y, targetWidth);
        return new Dataset(x, n, inputWidth, y, targetWidth, null, 0);
    }

    /** As {@link #classification(float[], int, int[], int)}, without a copy. */
    static Dataset adoptClassification(float[] x, int inputWidth, int[] labels, int classes) {
        final int n = rows("x", x, inputWidth);
        if (labels.length != n) {
            throw new IllegalArgumentException("labels have " + labels.length + " entries but x has " + n + " rows");
        }
        if (classes < 1) {
            throw new IllegalArgumentException("the number of classes must be >= 1, got " + classes);
        }
        checkFinite("x", x, inputWidth);
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is out of range 0.."
                        + (classes - 1));
            }
        }
        return new Dataset(x, n, inputWidth, null, 0, labels, classes);
    }

    /** One more than the largest label; rejects negative labels, which no class count can hold. */
    static int inferClasses(int[] labels) {
        int max = -1;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is negative");
            }
            max = Math.max(max, labels[i]);
        }
        if (max == Integer.MAX_VALUE) {
            throw new IllegalArgumentException("label " + max + " is too large");
        }
        return max + 1;
    }

    /** Most classes a dataset may infer from its labels: an output layer this wide is already unusual. */
    public static final int MAX_CLASSES = 1 << 16;

    /**
     * Checks a class count inferred as one more than the largest label: refused when it exceeds
     * {@link #MAX_CLASSES}, or when more than half of the classes 0..K-1 have no sample at all, which
     * is what one stray label (100000 among labels 0..9) does. Either would otherwise silently build an
     * output layer of that width.
     *
     * @param where names sample i's place in its file (for example {@code "d.csv line 7"})
     * @throws DataFormatException naming the place of the largest label
     */
    public static void checkInferredClasses(int[] labels, int classes, java.util.function.IntFunction<String> where)
            throws DataFormatException {
        int argMax = 0;
        for (int i = 1; i < labels.length; i++) {
            if (labels[i] > labels[argMax]) {
                argMax = i;
            }
        }
        if (labels.length == 0) {
            return;
        }
        if (classes > MAX_CLASSES) {
            throw new DataFormatException(where.apply(argMax) + ": label " + labels[argMax] + " would make " + classes
                    + " classes, more than the " + MAX_CLASSES + " supported; labels must be 0..K-1");
        }
        java.util.BitSet present = new java.util.BitSet(classes);
        for (int label : labels) {
            present.set(label);
        }
        int seen = present.cardinality();
        if (2L * (classes - seen) > classes) {
            throw new DataFormatException(where.apply(argMax) + ": label " + labels[argMax] + " would make " + classes
                    + " classes but only " + seen + " of them occur in the data; labels must be 0..K-1 with most classes present");
        }
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

    private static void checkFinite(String name, float[] a, int width) {
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                throw new IllegalArgumentException(name + "[" + j / width + ", " + j % width + "] is " + a[j]
                        + ": values must be finite");
            }
        }
    }

    /** Answers N, the number of samples (at least 1). */
    public int size() {
        return size;
    }

    /** Answers n0, the width of each input row. */
    public int inputWidth() {
        return inputWidth;
    }

    /** Answers whether the samples carry class labels (rather than regression targets). */
    public boolean isClassification() {
        return labels != null;
    }

    /** Answers the width of y for a regression dataset, 0 for a classification one. */
    public int targetWidth() {
        return targetWidth;
    }

    /** Answers K, the number of classes, for a classification dataset; 0 for a regression one. */
    public int classes() {
        return classes;
    }

    /** Answers the output width n<sub>L</sub> a network needs for this data: K, or the width of y. */
    public int outputWidth() {
        return isClassification() ? classes : targetWidth;
    }

    /** Answers x[i, k]. */
    public float input(int i, int k) {
        Objects.checkIndex(i, size);
        return x[i * inputWidth + Objects.checkIndex(k, inputWidth)];
    }

    /**
     * Answers y[i, u].
     *
     * @throws IllegalStateException for a classification dataset
     */
    public float target(int i, int u) {
        if (y == null) {
            throw new IllegalStateException("a classification dataset has labels, not targets");
        }
        Objects.checkIndex(i, size);
        return y[i * targetWidth + Objects.checkIndex(u, targetWidth)];
    }

    /**
     * Answers the label of sample i.
     *
     * @throws IllegalStateException for a regression dataset
     */
    public int label(int i) {
        if (labels == null) {
            throw new IllegalStateException("a regression dataset has targets, not labels");
        }
        return labels[Objects.checkIndex(i, size)];
    }

    /**
     * Answers a new batch holding copies of the given samples, in the given order (repeats allowed).
     *
     * @throws IndexOutOfBoundsException if an index is outside {@code 0..N-1}
     * @throws IllegalArgumentException  if {@code indices} is empty
     */
    public Batch batch(int[] indices) {
        if (indices.length == 0) {
            throw new IllegalArgumentException("a batch needs at least one sample");
        }
        for (int i : indices) {
            Objects.checkIndex(i, size);
        }
        final float[] bx = new float[Math.multiplyExact(indices.length, inputWidth)];
        if (labels != null) {
            final int[] bl = new int[indices.length];
            copyRows(indices, 0, indices.length, bx, null, bl);
            return Batch.classification(bx, inputWidth, bl);
        }
        final float[] by = new float[Math.multiplyExact(indices.length, targetWidth)];
        copyRows(indices, 0, indices.length, bx, by, null);
        return Batch.regression(bx, inputWidth, by, targetWidth);
    }

    /** Answers every sample, in order, as a new batch (copied). */
    public Batch toBatch() {
        if (labels != null) {
            return Batch.classification(x.clone(), inputWidth, labels.clone());
        }
        return Batch.regression(x.clone(), inputWidth, y.clone(), targetWidth);
    }

    /**
     * Answers the given samples, in the given order, as a new dataset with the same K.
     *
     * @throws IndexOutOfBoundsException if an index is outside {@code 0..N-1}
     * @throws IllegalArgumentException  if {@code indices} is empty
     */
    public Dataset subset(int[] indices) {
        if (indices.length == 0) {
            throw new IllegalArgumentException("a dataset needs at least one sample");
        }
        for (int i : indices) {
            Objects.checkIndex(i, size);
        }
        final float[] sx = new float[Math.multiplyExact(indices.length, inputWidth)];
        final int[] sl = labels == null ? null : new int[indices.length];
        final float[] sy = y == null ? null : new float[Math.multiplyExact(indices.length, targetWidth)];
        copyRows(indices, 0, indices.length, sx, sy, sl);
        return new Dataset(sx, indices.length, inputWidth, sy, targetWidth, sl, classes);
    }

    /**
     * Splits the samples at random into a training part and a held-out part of
     * {@code round(heldOutFraction * N)} samples. The choice is a pure function of {@code seed} (a
     * Fisher–Yates shuffle driven by {@code Seeds.bits(seed, -1, i)}, see {@link Batcher#permutation});
     * each part keeps the samples' original relative order, and both keep K.
     *
     * @throws IllegalArgumentException unless {@code 0 < heldOutFraction < 1} and both parts get at
     *                                  least one sample
     */
    public Split split(double heldOutFraction, long seed) {
        if (!(heldOutFraction > 0 && heldOutFraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in (0, 1), got " + heldOutFraction);
        }
        final long heldOut = Math.round(heldOutFraction * size);
        if (heldOut < 1 || heldOut > size - 1) {
            throw new IllegalArgumentException("a held-out fraction of " + heldOutFraction + " of " + size
                    + " samples leaves " + heldOut + " held out and " + (size - heldOut) + " for training; both need at least 1");
        }
        final int[] order = Batcher.permutation(size, seed, SPLIT_STREAM);
        final int[] held = Arrays.copyOfRange(order, 0, (int) heldOut);
        final int[] train = Arrays.copyOfRange(order, (int) heldOut, size);
        Arrays.sort(held);
        Arrays.sort(train);
        return new Split(subset(train), subset(held));
    }

    /**
     * Copies samples {@code indices[from..from+count)} into caller-owned arrays, as rows 0..count-1.
     * Indices must already be in range.
     *
     * @param xOut      {@code [count, n0]} at least. Modified.
     * @param yOut      {@code [count, nOut]} at least, or null for classification. Modified.
     * @param labelsOut {@code [count]} at least, or null for regression. Modified.
     */
    void copyRows(int[] indices, int from, int count, float[] xOut, float[] yOut, int[] labelsOut) {
        for (int r = 0; r < count; r++) {
            final int i = indices[from + r];
            System.arraycopy(x, i * inputWidth, xOut, r * inputWidth, inputWidth);
            if (labelsOut != null) {
                labelsOut[r] = labels[i];
            } else {
                System.arraycopy(y, i * targetWidth, yOut, r * targetWidth, targetWidth);
            }
        }
    }

    @Override
    public String toString() {
        return "Dataset[N=" + size + ", n0=" + inputWidth
                + (isClassification() ? ", " + classes + " classes]" : ", targets of width " + targetWidth + "]");
    }

    /**
     * The two parts of a {@link #split}.
     *
     * @param train   the samples left for training
     * @param heldOut the samples held out
     */
    public record Split(Dataset train, Dataset heldOut) {
        /** Checks that both parts are present. */
        public Split {
            Objects.requireNonNull(train, "train");
            Objects.requireNonNull(heldOut, "heldOut");
        }
    }
}
