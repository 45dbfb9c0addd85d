package dev.checkprop.spark;

import java.io.Serializable;

/**
 * What one shard answers for one job: its rows (0 for an empty shard), its mean loss, its
 * gradient and curvature product as flat parameter vectors (W1, b1, W2, ...; null when not asked),
 * its plan, the nanoseconds its executor ran, and those its task spent first reading the shard and
 * building its executor (0 once cached).
 */
record ShardResult(int shard, int rows, double loss, float[] gradient, float[] product, String plan, long nanos,
                   long setupNanos) implements Serializable {

    /** This result, with the nanoseconds the task spent reading the shard and building its executor. */
    ShardResult withSetup(long nanos) {
        return new ShardResult(shard, rows, loss, gradient, product, plan, this.nanos, nanos);
    }
}
