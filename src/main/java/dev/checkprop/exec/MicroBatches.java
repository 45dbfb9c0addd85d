package dev.checkprop.exec;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;

/**
 * Gradient accumulation: a batch too large for the memory budget is run as {@code k} consecutive
 * micro-batches of at most {@code ceil(N/k)} samples through one executor sized for a micro-batch,
 * and the mean-loss gradients are combined with weights n<sub>j</sub>/N in a fixed order. The result
 * is the gradient of the whole batch up to float rounding (the sums are split differently), and the
 * same bits on every run; it is not bit-identical to running the batch whole.
 */
public final class MicroBatches {

    private final Executor exec;
    private final int parts;
    private final Gradients scratch;

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
        final int size = (n + parts - 1) / parts;
        if (size > exec.batchSize()) {
            throw new IllegalArgumentException(parts + " micro-batches of a batch of " + n + " hold " + size
                    + " samples, more than the executor's " + exec.batchSize());
        }
        if (parts == 1) {
            return exec.gradient(data, loss, out);
        }
        Network net = exec.network();
        double total = 0;
        boolean first = true;
        for (int from = 0; from < n; from += size) {
            int to = Math.min(n, from + size);
            Batch part = data.slice(from, to);
            double partLoss = exec.gradient(part, loss, scratch);
            float w = (float) (to - from) / n;
            total += partLoss * (to - from) / n;
            for (int l = 1; l <= net.depth(); l++) {
                accumulate(out.weights(l), scratch.weights(l), w, first);
                accumulate(out.bias(l), scratch.bias(l), w, first);
            }
            first = false;
        }
        return total;
    }

    private static void accumulate(float[] into, float[] g, float w, boolean first) {
        if (first) {
            for (int i = 0; i < into.length; i++) {
                into[i] = w * g[i];
            }
        } else {
            for (int i = 0; i < into.length; i++) {
                into[i] = Math.fma(w, g[i], into[i]);
            }
        }
    }
}
