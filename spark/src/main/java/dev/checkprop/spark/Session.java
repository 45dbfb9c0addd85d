package dev.checkprop.spark;

import dev.checkprop.nn.Loss;
import dev.checkprop.nn.StateModel;

import java.io.Serializable;

/**
 * What every shard of one computation needs to know, shipped inside each task (a few hundred
 * bytes; the model and the parameters travel as broadcasts, the rows not at all: each partition
 * reads its own range of the data file).
 *
 * @param id           names the session in the per-JVM cache ({@link ShardCache})
 * @param data         the rows: a data file's layout (each partition reads its range), or a user's RDD's counts
 * @param loss         the loss
 * @param plan         the plan string each shard is planned from ({@code auto}: from its share of the heap)
 * @param shards       K, the partitions
 * @param rows         N, the rows of the data
 * @param mode         gradients only, or Gauss-Newton products too
 * @param threads      executor threads per task
 * @param shardsPerJvm how many shards one executor JVM holds at once: each gets that share of its heap
 * @param miniBatch    rows per shard per step, drawn by a seeded {@code Batcher} over the shard; 0 for the whole shard
 * @param seed         the mini-batch shuffle seed (shard j uses {@link #shardSeed})
 */
record Session(String id, ShardData data, Loss loss, String plan, int shards, int rows, StateModel.Mode mode, int threads,
               int shardsPerJvm, int miniBatch, long seed) implements Serializable {

    /** The shuffle seed of shard j's batcher. */
    long shardSeed(int j) {
        return seed ^ (0x9E3779B97F4A7C15L * (j + 1));
    }
}
