package dev.checkprop.data;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Seeds;

/**
 * Cuts a {@link Dataset} into seeded, shuffled mini-batches of a fixed size, epoch after epoch.
 *
 * <p>Steps are numbered globally from 0: step s belongs to epoch {@code s / stepsPerEpoch()} and is
 * that epoch's batch number {@code s % stepsPerEpoch()}. Each epoch visits the samples in the order
 * {@link #permutation permutation(N, seed, epoch)}, a pure function of (seed, epoch), so a batch is
 * a pure function of (seed, step): the same on every JDK, whatever steps were asked for before.
 *
 * <p><b>The last partial batch of each epoch is dropped</b>: {@code stepsPerEpoch() = N / batchSize}
 * (rounded down), because an executor's buffers are sized for one fixed batch size. The dropped
 * samples differ from epoch to epoch, so over several epochs every sample is used.
 *
 * <p>Order of use: construct once, then per step either {@link #fill} caller-owned arrays or take
 * {@link #batch(long)}, which refills and returns one batch owned by the batcher. Neither allocates
 * (an epoch's order is computed into an array kept for that purpose). Not thread-safe.
 */
public final class Batcher {

    private final Dataset data;
    private final int batchSize;
    private final long seed;
    private final int stepsPerEpoch;

    private final int[] order;
    private long orderEpoch = -1;

    private final float[] x;
    private final float[] y;
    private final int[] labels;
    private final Batch batch;

    /**
     * @param batchSize samples per batch, at most N
     * @param seed      the shuffle seed
     * @throws IllegalArgumentException if {@code batchSize} is not in {@code 1..N}
     */
    public Batcher(Dataset data, int batchSize, long seed) {
        if (batchSize < 1 || batchSize > data.size()) {
            throw new IllegalArgumentException("batch size must be in 1.." + data.size() + " (the dataset's size), got "
                    + batchSize);
        }
        this.data = data;
        this.batchSize = batchSize;
        this.seed = seed;
        this.stepsPerEpoch = data.size() / batchSize;
        this.order = new int[data.size()];
        this.x = new float[Math.multiplyExact(batchSize, data.inputWidth())];
        if (data.isClassification()) {
            this.y = null;
            this.labels = new int[batchSize];
            // Values are filled per step; the batch validates its shape now, and the dataset has
            // already checked every value, so the batch can be reused without checking again.
            this.batch = Batch.classification(x, data.inputWidth(), labels);
        } else {
            this.y = new float[Math.multiplyExact(batchSize, data.targetWidth())];
            this.labels = null;
            this.batch = Batch.regression(x, data.inputWidth(), y, data.targetWidth());
        }
    }

    /** Answers the dataset batches are cut from. */
    public Dataset dataset() {
        return data;
    }

    /** Answers the number of samples per batch. */
    public int batchSize() {
        return batchSize;
    }

    /** Answers the shuffle seed. */
    public long seed() {
        return seed;
    }

    /** Answers the number of full batches per epoch, {@code N / batchSize}; the remainder is dropped. */
    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Answers the epoch a global step belongs to. */
    public long epochOf(long step) {
        checkStep(step);
        return step / stepsPerEpoch;
    }

    /**
     * Writes the inputs and targets of a regression step into caller-owned arrays.
     *
     * @param x {@code [batchSize, n0]} at least. Modified.
     * @param y {@code [batchSize, nOut]} at least. Modified.
     * @throws IllegalStateException    for a classification dataset
     * @throws IllegalArgumentException if {@code step < 0} or an array is too short
     */
    public void fill(long step, float[] x, float[] y) {
        if (data.isClassification()) {
            throw new IllegalStateException("the dataset has labels: use fill(step, x, labels)");
        }
        checkLength("x", x.length, batchSize * data.inputWidth());
        checkLength("y", y.length, batchSize * data.targetWidth());
        copy(step, x, y, null);
    }

    /**
     * Writes the inputs and labels of a classification step into caller-owned arrays.
     *
     * @param x      {@code [batchSize, n0]} at least. Modified.
     * @param labels {@code [batchSize]} at least. Modified.
     * @throws IllegalStateException    for a regression dataset
     * @throws IllegalArgumentException if {@code step < 0} or an array is too short
     */
    public void fill(long step, float[] x, int[] labels) {
        if (!data.isClassification()) {
            throw new IllegalStateException("the dataset has regression targets: use fill(step, x, y)");
        }
        checkLength("x", x.length, batchSize * data.inputWidth());
        checkLength("labels", labels.length, batchSize);
        copy(step, x, null, labels);
    }

    /**
     * Answers the batch of a step. The returned batch is always the same object, owned by this
     * batcher, and its arrays are overwritten by the next call: use it before asking for another
     * step, or use {@link #fill} or {@link Dataset#batch} to keep one.
     *
     * @throws IllegalArgumentException if {@code step < 0}
     */
    public Batch batch(long step) {
        copy(step, x, y, labels);
        return batch;
    }

    /**
     * Answers the dataset indices of a step's samples, in batch order (a new array; for inspection
     * and tests).
     *
     * @throws IllegalArgumentException if {@code step < 0}
     */
    public int[] indices(long step) {
        final int[] o = epochOrder(step);
        final int from = (int) (step % stepsPerEpoch) * batchSize;
        return java.util.Arrays.copyOfRange(o, from, from + batchSize);
    }

    private void copy(long step, float[] xOut, float[] yOut, int[] labelsOut) {
        final int[] o = epochOrder(step);
        data.copyRows(o, (int) (step % stepsPerEpoch) * batchSize, batchSize, xOut, yOut, labelsOut);
    }

    private int[] epochOrder(long step) {
        checkStep(step);
        final long epoch = step / stepsPerEpoch;
        if (epoch != orderEpoch) {
            permuteInto(order, seed, epoch);
            orderEpoch = epoch;
        }
        return order;
    }

    private static void checkStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("step must be >= 0, got " + step);
        }
    }

    private static void checkLength(String name, int length, int needed) {
        if (length < needed) {
            throw new IllegalArgumentException(name + " has room for " + length + " values, a batch needs " + needed);
        }
    }

    /**
     * Answers a permutation of {@code 0..n-1} that is a pure function of (n, seed, stream): a
     * Fisher–Yates shuffle of the identity whose i-th draw (i = n&minus;1 down to 1) is
     * {@code Seeds.bits(seed, stream, i)} reduced modulo i+1 as an unsigned number. (The modulo's
     * bias is below 2<sup>-32</sup> per draw, far below anything a shuffle could show.)
     * {@link Batcher} uses stream = epoch; {@link Dataset#split} uses stream &minus;1.
     *
     * @throws IllegalArgumentException if {@code n < 0}
     */
    public static int[] permutation(int n, long seed, long stream) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        final int[] p = new int[n];
        permuteInto(p, seed, stream);
        return p;
    }

    /** Overwrites {@code p} with {@link #permutation permutation(p.length, seed, stream)}. */
    static void permuteInto(int[] p, long seed, long stream) {
        for (int i = 0; i < p.length; i++) {
            p[i] = i;
        }
        for (int i = p.length - 1; i > 0; i--) {
            final int j = (int) Long.remainderUnsigned(Seeds.bits(seed, stream, i), i + 1L);
            final int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
    }
}
