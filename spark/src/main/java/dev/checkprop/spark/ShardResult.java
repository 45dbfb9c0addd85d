package dev.checkprop.spark;

import java.io.Serializable;

/**
 * What one shard answers for one job: its rows (0 for an empty shard), its mean loss, its
 * gradient and curvature product as flat parameter vectors (W1, b1, W2, ...; null when not asked),
 * its plan and the nanoseconds its executor ran.
 */
record ShardResult(int shard, int rows, double loss, float[] gradient, float[] product, String plan, long nanos)
        implements Serializable {
}
