package dev.checkprop.exec;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;

/**
 * Gradient accumulation: a batch too large for the memory budget is run as {@code k} consecutive
 * micro-batches of at most {@code ceil(N/k)} samples through one executor sized for a micro-batch,
 * and the mean-loss gradients are combined with weights n<sub>j</sub>/N in a fixed order ({@link Shards}: the
 * split and the combination that {@code grad --shards K} and the Spark module use too). The result
 * is the gradient of the whole batch up to float rounding (the sums are split differently), and the
 * same bits on every run; it is not bit-identical to running the batch whole.
 */
public final class MicroBatches {

    private final Executor exec;
    private final int parts;
    private final Gradients scratch;
    /** Micro-batch slices, built on the first call and refilled in place afterwards (no copy allocated per step). */
    private Batch[] slices;
    private int slicedSize = -1;
    private final Shards.Sum sum = new Shards.Sum();

    /**
     * @param exec  an executor sized for micro-batches (its {@link Executor#batchSize()})
     * @param parts k, the number of micro-batches per batch, at least 1
     */
    public MicroBatches(Executor exec, int parts) {
        if (parts < 1) {
            throw new IllegalArgumentException("micro-batches must be >= 1, got " + parts);
        }
        this.exec = exec;
        this.parts = parts;
        // Only accumulation needs a second set of gradients; memory accounting counts it only then.
        this.scratch = parts > 1 ? Gradients.zerosLike(exec.network()) : null;
    }

    /** Answers k. */
    public int parts() {
        return parts;
    }

    /**
     * Answers the mean loss over the whole batch and writes its gradient into {@code out}.
     *
     * @throws IllegalArgumentException if a micro-batch would exceed the executor's batch size
     */
    public double gradient(Batch data, Loss loss, Gradients out) {
        final int n = data.size();
        final int size = Shards.size(n, parts);
        if (size > exec.batchSize()) {
            throw new IllegalArgumentException(parts + " micro-batches of a batch of " + n + " hold " + size
                    + " samples, more than the executor's " + exec.batchSize());
        }
        if (parts == 1) {
            return exec.gradient(data, loss, out);
        }
        if (slices == null || slicedSize != n || (slices[0].labels() != null) != (data.labels() != null)) {
            slices = new Batch[(n + size - 1) / size];
            for (int j = 0, from = 0; from < n; j++, from += size) {
                slices[j] = data.slice(from, Math.min(n, from + size));
            }
            slicedSize = n;
        } else {
            for (int j = 0, from = 0; from < n; j++, from += size) {
                refill(data, from, slices[j]);
            }
        }
        Shards.Sum sum = this.sum.begin(out, n);
        for (Batch part : slices) {
            sum.add(exec.gradient(part, loss, scratch), part.size(), scratch);
        }
        return sum.loss();
    }

    /** Copies the rows of {@code data} starting at {@code from} into the arrays {@code part} adopted. */
    private static void refill(Batch data, int from, Batch part) {
        final int rows = part.size();
        System.arraycopy(data.inputs(), from * data.inputWidth(), part.inputs(), 0, rows * data.inputWidth());
        if (data.labels() != null) {
            System.arraycopy(data.labels(), from, part.labels(), 0, rows);
        } else {
            System.arraycopy(data.targets(), from * data.targetWidth(), part.targets(), 0, rows * data.targetWidth());
        }
    }
}
