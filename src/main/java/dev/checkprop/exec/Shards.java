package dev.checkprop.exec;

import dev.checkprop.nn.Gradients;

/**
 * The one rule by which checkprop splits a batch into parts and combines the parts' mean-loss
 * gradients: micro-batches ({@link MicroBatches}), {@code grad --shards K} and the Spark module's
 * partitions all use it, which is why a sharded run is the same bits wherever its parts ran.
 *
 * <h2>Split</h2>
 * A batch of N samples in k parts: part j holds rows {@code [j*s, min(N, (j+1)*s))} with
 * s = ceil(N/k). When k does not divide N evenly the last non-empty part is smaller, and
 * trailing parts may be empty ({@link #count} are not): N = 9, k = 4 gives 3, 3, 3 and nothing.
 *
 * <h2>Combination</h2>
 * With n<sub>j</sub> the rows of part j and w<sub>j</sub> = (float) n<sub>j</sub> / N (a float):
 * the gradient is w<sub>0</sub>&middot;g<sub>0</sub>, then for j = 1, 2, ... in order
 * {@code fma(w_j, g_j, sum)} element by element, and the loss is the double sum
 * 0 + L<sub>0</sub>&middot;n<sub>0</sub>/N + L<sub>1</sub>&middot;n<sub>1</sub>/N + ... in order.
 * A single part that holds the whole batch is taken as it is (its loss and gradient bits). Parts
 * are added in part order, never in the order they finish.
 */
public final class Shards {

    private Shards() {
    }

    /** Answers s = ceil(n/k), the rows of every part but the last non-empty one. */
    public static int size(int n, int k) {
        check(n, k);
        return (int) ((n + (long) k - 1) / k);
    }

    /** Answers the number of non-empty parts, ceil(n / s). */
    public static int count(int n, int k) {
        final int s = size(n, k);
        return (n + s - 1) / s;
    }

    /** Answers the first row of part j (n for an empty part). */
    public static int from(int n, int k, int j) {
        if (j < 0 || j >= k) {
            throw new IndexOutOfBoundsException("part " + j + " of " + k);
        }
        return (int) Math.min(n, (long) j * size(n, k));
    }

    /** Answers one past the last row of part j. */
    public static int to(int n, int k, int j) {
        if (j < 0 || j >= k) {
            throw new IndexOutOfBoundsException("part " + j + " of " + k);
        }
        return (int) Math.min(n, (long) (j + 1) * size(n, k));
    }

    private static void check(int n, int k) {
        if (n < 1) {
            throw new IllegalArgumentException("a batch to split needs at least 1 sample, got " + n);
        }
        if (k < 1) {
            throw new IllegalArgumentException("parts must be >= 1, got " + k);
        }
    }

    /**
     * The ordered combination of parts into {@code out}: {@link #add} each part's mean loss, rows
     * and gradient (or curvature product) in part order, then read {@link #loss()}. Allocates
     * nothing. Not thread-safe.
     */
    public static final class Sum {

        private Gradients out;
        private int total;
        private int rows;
        private double loss;
        private boolean first = true;

        /** A sum to {@link #begin} later (to reuse one object step after step). */
        public Sum() {
        }

        /** A sum begun: {@code new Sum().begin(out, total)}. */
        public Sum(Gradients out, int total) {
            begin(out, total);
        }

        /**
         * Starts a new sum, forgetting any parts added before.
         *
         * @param out   receives the combined gradient (overwritten by the first part)
         * @param total N, the rows of all parts together
         */
        public Sum begin(Gradients out, int total) {
            if (total < 1) {
                throw new IllegalArgumentException("a sum of parts needs at least 1 row, got " + total);
            }
            this.out = out;
            this.total = total;
            this.rows = 0;
            this.loss = 0;
            this.first = true;
            return this;
        }

        /**
         * Adds the next part.
         *
         * @param partLoss the part's mean loss
         * @param partRows n<sub>j</sub>, at least 1
         * @param g        the part's gradient; null to combine the losses only
         * @throws IllegalArgumentException if the parts would hold more than N rows
         */
        public Sum add(double partLoss, int partRows, Gradients g) {
            if (partRows < 1 || rows + (long) partRows > total) {
                throw new IllegalArgumentException("a part of " + partRows + " rows after " + rows + " of " + total);
            }
            rows += partRows;
            if (partRows == total) {
                loss = partLoss; // the whole batch in one part: its own bits
            } else {
                loss += partLoss * partRows / total;
            }
            if (g != null && out != null) {
                final float w = (float) partRows / total;
                for (int l = 1; l <= out.depth(); l++) {
                    accumulate(out.weights(l), g.weights(l), w, first);
                    accumulate(out.bias(l), g.bias(l), w, first);
                }
            }
            first = false;
            return this;
        }

        /** Answers the combined mean loss. */
        public double loss() {
            return loss;
        }

        /** Answers the rows added so far. */
        public int rows() {
            return rows;
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
}
