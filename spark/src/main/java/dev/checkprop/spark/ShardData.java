package dev.checkprop.spark;

import dev.checkprop.exec.Shards;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;

import java.io.IOException;
import java.io.Serializable;

/**
 * The rows of a session, as its tasks see them: how many, where shard j begins and ends, and how a
 * partition reads its range itself. Small (it travels inside every task): a file's layout, never
 * its rows.
 */
interface ShardData extends Serializable {

    /** Names the data in messages: the file, or the RDD. */
    String name();

    /**
     * Names the rows' source and how they are read, for the per-JVM cache of rows: the same key
     * must mean the same rows.
     */
    default String key() {
        return getClass().getSimpleName() + "#" + name();
    }

    /** Answers N. */
    int rows();

    /** The first row of shard j of k: {@link Shards#from} unless the data fixes its own partitions. */
    default int from(int k, int j) {
        return Shards.from(rows(), k, j);
    }

    /** One past the last row of shard j of k. */
    default int to(int k, int j) {
        return Shards.to(rows(), k, j);
    }

    /**
     * Reads rows {@code from .. to-1} for {@code loss} (on an executor); messages begin with
     * {@code where}, which names the shard, its rows and the file.
     */
    Batch read(int from, int to, Loss loss, String where) throws IOException;
}
