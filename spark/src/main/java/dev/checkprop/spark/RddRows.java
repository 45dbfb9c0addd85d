package dev.checkprop.spark;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;

import java.util.Iterator;

/**
 * The rows of a user's RDD: partition j is shard j, its samples in the RDD's order. The driver
 * counts each partition once ({@link #starts}); a partition converts the samples its task is given
 * into its shard ({@link #batch}), with the checks a data file's rows get.
 */
record RddRows(String name, int[] starts) implements ShardData {

    @Override
    public int rows() {
        return starts[starts.length - 1];
    }

    @Override
    public int from(int k, int j) {
        return starts[j];
    }

    @Override
    public int to(int k, int j) {
        return starts[j + 1];
    }

    @Override
    public Batch read(int from, int to, Loss loss, String where) {
        throw new IllegalStateException(where + ": an RDD's rows come with its partitions' tasks");
    }

    /** Converts shard rows {@code from ..} (the partition's samples, in order) into a batch for {@code loss}. */
    static Batch batch(Iterator<?> samples, int from, int to, Loss loss, String where) {
        int n = to - from;
        boolean labelled = loss == Loss.SOFTMAX_CROSS_ENTROPY;
        float[] x = null;
        float[] y = null;
        int[] labels = labelled ? new int[n] : null;
        int n0 = -1;
        int nL = -1;
        int i = 0;
        while (samples.hasNext()) {
            Object o = samples.next();
            int row = from + i;
            if (!(o instanceof Sample s)) {
                throw new IllegalArgumentException(where + ": row " + row + " is a "
                        + (o == null ? "null" : o.getClass().getName()) + ", not a dev.checkprop.spark.Sample");
            }
            if (i >= n) {
                throw new IllegalStateException(where + ": the partition has more rows than the " + n
                        + " counted when the session opened: the RDD must give the same rows every time (persist it)");
            }
            if (s.x() == null || s.x().length == 0) {
                throw new IllegalArgumentException(where + ": row " + row + " has no inputs x");
            }
            if (n0 < 0) {
                n0 = s.x().length;
                x = new float[Math.multiplyExact(n, n0)];
            } else if (s.x().length != n0) {
                throw new IllegalArgumentException(where + ": row " + row + " has " + s.x().length + " inputs, row " + from
                        + " has " + n0);
            }
            finite(where, "x", s.x(), row);
            System.arraycopy(s.x(), 0, x, i * n0, n0);
            if (labelled) {
                if (s.y() != null || s.label() < 0) {
                    throw new IllegalArgumentException(where + ": row " + row + " has targets y, not a label: loss "
                            + loss.cliName() + " needs labelled samples (Sample.of(x, label))");
                }
                labels[i] = s.label();
            } else {
                if (s.y() == null || s.y().length == 0) {
                    throw new IllegalArgumentException(where + ": row " + row + " has a label, not targets y: loss "
                            + loss.cliName() + " needs regression samples (Sample.of(x, y))");
                }
                if (nL < 0) {
                    nL = s.y().length;
                    y = new float[Math.multiplyExact(n, nL)];
                } else if (s.y().length != nL) {
                    throw new IllegalArgumentException(where + ": row " + row + " has " + s.y().length + " targets, row "
                            + from + " has " + nL);
                }
                finite(where, "y", s.y(), row);
                System.arraycopy(s.y(), 0, y, i * nL, nL);
            }
            i++;
        }
        if (i != n) {
            throw new IllegalStateException(where + ": the partition has " + i + " rows, not the " + n
                    + " counted when the session opened: the RDD must give the same rows every time (persist it)");
        }
        return labelled ? Batch.classification(x, n0, labels) : Batch.regression(x, n0, y, nL);
    }

    private static void finite(String where, String name, float[] a, int row) {
        for (int c = 0; c < a.length; c++) {
            if (!Float.isFinite(a[c])) {
                throw new IllegalArgumentException(where + ": " + name + "[" + row + ", " + c + "] is " + a[c]
                        + ": values must be finite");
            }
        }
    }
}
