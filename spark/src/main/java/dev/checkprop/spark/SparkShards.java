package dev.checkprop.spark;

import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import org.apache.spark.SparkException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;

/**
 * K shards on Spark, of a data file or of the user's own RDD. With a file ({@link DataFile}),
 * partition j reads rows {@code Shards.from(N, K, j)} .. {@code Shards.to(N, K, j)} of the file
 * itself; with a {@code JavaRDD<Sample>}, partition j of the RDD is shard j, its samples in RDD
 * order. Either way the shard's rows are converted once per executor JVM ({@link ShardCache}),
 * planned from its executor's heap, and its executor kept between jobs. Each call is one Spark job:
 * the parameters (when changed) and the direction are broadcast, each partition answers its
 * {@link ShardResult}, {@code collect()} returns them in partition order, and the driver combines
 * them in that order ({@link ShardBackend}) &mdash; never {@code treeAggregate} or {@code reduce},
 * whose merge order follows task completion.
 */
public final class SparkShards extends ShardBackend {

    private final JavaSparkContext sc;
    /** What the jobs run over: the partition numbers of a file session, or the user's RDD. */
    private final JavaRDD<?> partitions;
    private final Broadcast<byte[]> modelBroadcast;
    private Broadcast<float[]> params;
    private long paramsVersion = -1;

    private SparkShards(JavaSparkContext sc, Session s, Network net, byte[] model, JavaRDD<?> rdd) {
        super(s, net, model);
        this.sc = sc;
        if (rdd == null) {
            List<Integer> idx = new ArrayList<>();
            for (int j = 0; j < s.shards(); j++) {
                idx.add(j);
            }
            // Only the partition numbers travel: each partition reads its own rows.
            this.partitions = sc.parallelize(idx, s.shards());
        } else {
            this.partitions = rdd;
        }
        this.modelBroadcast = sc.broadcast(model);
    }

    /**
     * Opens K shards of a safetensors data file; see
     * {@link #open(JavaSparkContext, byte[], DataFile, Loss, String, int, StateModel.Mode, int, int, long)}.
     */
    public static SparkShards open(JavaSparkContext sc, byte[] model, String data, Loss loss, String plan, int shards,
                                   StateModel.Mode mode, int threads, int miniBatch, long seed) throws IOException {
        return open(sc, model, DataFile.safetensors(data), loss, plan, shards, mode, threads, miniBatch, seed);
    }

    /**
     * Opens K shards of {@code data} (at a path every executor can read through Hadoop's
     * FileSystem) for the model file's bytes. The driver reads the file's header (a CSV file: its
     * index, in one pass); each partition reads only its rows, in its first job.
     *
     * @param plan      the plan each shard runs ({@code auto}: planned from its share of its executor's heap)
     * @param mode      {@code GRADIENT}, or {@code CURVATURE} for Gauss-Newton products (Hessian-free)
     * @param threads   executor threads per task (the bits do not depend on it)
     * @param miniBatch rows per shard per step (0: every row, every step)
     * @param seed      the mini-batch shuffle seed
     */
    public static SparkShards open(JavaSparkContext sc, byte[] model, DataFile data, Loss loss, String plan, int shards,
                                   StateModel.Mode mode, int threads, int miniBatch, long seed) throws IOException {
        if (shards < 1) {
            throw new IllegalArgumentException("--partitions must be >= 1, got " + shards);
        }
        Network net = ModelFile.fromSafeTensors(SafeTensors.read(model, "the model"), "the model");
        ShardData rows = data.open(loss, shards);
        Session s = new Session(UUID.randomUUID().toString(), rows, loss, plan, shards, rows.rows(), mode, threads,
                shardsPerJvm(sc, shards), miniBatch, seed);
        return new SparkShards(sc, s, net, model, null);
    }

    /**
     * Opens the shards of the caller's own RDD: partition j of {@code data} is shard j, its samples
     * in the RDD's order, and the results are combined in partition order as {@code exec.Shards}
     * combines them. So an RDD whose partitions hold the rows of {@code grad --shards K}'s shards
     * (K partitions, partition j the rows {@code Shards.from(N, K, j) .. Shards.to(N, K, j)} of
     * the file) gives that command's bits; any other partitioning is the same combination of
     * other shards. Every sample must be of the loss's kind (targets for {@code mse}, a label for
     * {@code softmax-ce}) and of the model's input width.
     *
     * <p>One job counts each partition's samples here; each partition then converts its samples
     * into its shard in its first gradient job, once per executor JVM, and later jobs do not read
     * them again where that JVM still holds the shard. A task that runs where the shard is not held
     * (another executor, a lost one) converts the samples it is given, so the RDD must give the same
     * samples in the same order every time it is computed: <b>persist it</b> (the caller does, with
     * the storage level it can afford; this class does not) and do not build it from random draws
     * without a seed.
     *
     * @param data the samples; its number of partitions is K
     * @see #open(JavaSparkContext, byte[], DataFile, Loss, String, int, StateModel.Mode, int, int, long)
     */
    public static SparkShards open(JavaSparkContext sc, byte[] model, JavaRDD<Sample> data, Loss loss, String plan,
                                   StateModel.Mode mode, int threads, int miniBatch, long seed) throws IOException {
        Network net = ModelFile.fromSafeTensors(SafeTensors.read(model, "the model"), "the model");
        int k = data.getNumPartitions();
        if (k < 1) {
            throw new IllegalArgumentException("the RDD has no partitions");
        }
        List<long[]> counts;
        try {
            counts = data.mapPartitionsWithIndex((Integer j, Iterator<Sample> it) -> {
                long n = 0;
                for (; it.hasNext(); it.next()) {
                    n++;
                }
                return List.of(new long[] {j, n}).iterator();
            }, false).collect();
        } catch (Exception e) { // SparkException is checked, and thrown undeclared
            throw unwrap(e);
        }
        int[] starts = new int[k + 1];
        for (int j = 0; j < k; j++) {
            if (counts.get(j)[0] != j) {
                throw new IllegalStateException("partition " + counts.get(j)[0] + " answered in place " + j);
            }
            starts[j + 1] = Math.toIntExact(starts[j] + counts.get(j)[1]);
        }
        if (starts[k] == 0) {
            throw new IllegalArgumentException("the RDD holds no samples");
        }
        String name = "RDD " + data.id() + (data.name() != null ? " (" + data.name() + ")" : "");
        Session s = new Session(UUID.randomUUID().toString(), new RddRows(name, starts), loss, plan, k, starts[k], mode,
                threads, shardsPerJvm(sc, k), miniBatch, seed);
        return new SparkShards(sc, s, net, model, data);
    }

    /**
     * Shards one executor JVM holds: all K in local mode, else K over the executors (rounded up),
     * or {@code spark.checkprop.shardsPerExecutor} when set.
     */
    static int shardsPerJvm(JavaSparkContext sc, int shards) {
        String set = sc.getConf().get("spark.checkprop.shardsPerExecutor", null);
        if (set != null) {
            return Integer.parseInt(set.trim());
        }
        if (sc.isLocal()) {
            return shards;
        }
        int executors = Math.max(1, sc.sc().getExecutorMemoryStatus().size() - 1);
        return (shards + executors - 1) / executors;
    }

    @Override
    List<ShardResult> run(long step, float[] direction, boolean wantGradient) {
        long t0 = System.nanoTime();
        if (params == null || paramsVersion != version) {
            if (params != null) {
                params.destroy(false);
            }
            params = sc.broadcast(Flat.of(net));
            paramsVersion = version;
        }
        Broadcast<float[]> v = direction == null ? null : sc.broadcast(direction);
        long t1 = System.nanoTime();
        List<ShardResult> out;
        try {
            out = collect(partitions, new Task<>(session, modelBroadcast, params, version, v, step, wantGradient));
        } catch (Exception e) { // SparkException is checked, and thrown undeclared
            throw unwrap(e);
        } finally {
            if (v != null) {
                v.destroy(false);
            }
        }
        long t2 = System.nanoTime();
        double job = (t2 - t1) / 1e9;
        double compute = slowest(out);
        double setup = slowestSetup(out);
        timing(new Timing((t1 - t0) / 1e9, setup, compute, Math.max(0, job - compute - setup), 0, (t2 - t0) / 1e9));
        return out;
    }

    private static <T> List<ShardResult> collect(JavaRDD<T> rdd, Task<T> task) {
        return rdd.mapPartitionsWithIndex(task, false).collect();
    }

    /** A failed task's own exception (its message names the shard), out of Spark's wrapping. */
    static RuntimeException unwrap(Exception e) {
        Throwable t = e;
        while (t != null) {
            if (!(t instanceof SparkException) && t != e && t.getMessage() != null && t.getMessage().startsWith("shard ")) {
                return new ShardFailure(t.getMessage(), e);
            }
            t = t.getCause();
        }
        // The message of a stage failure quotes the task's exception: keep the line that names the shard.
        String m = e.getMessage() == null ? "" : e.getMessage();
        int at = m.indexOf("shard ");
        if (at >= 0) {
            int end = m.indexOf('\n', at);
            return new ShardFailure(m.substring(at, end < 0 ? m.length() : end).strip(), e);
        }
        return e instanceof RuntimeException r ? r : new IllegalStateException(e.getMessage(), e);
    }

    /** A shard failed on an executor; the message is the shard's own (it names the shard, file and rows). */
    public static final class ShardFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        ShardFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @Override
    public void close() {
        String id = session.id();
        // Release the shards' executors in every executor JVM that holds them (one task per partition).
        try {
            partitions.foreachPartition(it -> ShardCache.release(id));
        } catch (RuntimeException e) {
            // a lost executor holds nothing any more
        }
        if (params != null) {
            params.destroy(false);
        }
        modelBroadcast.destroy(false);
    }

    /** The partition function: shard j's state from the cache, one run, one result. */
    static final class Task<T> implements Function2<Integer, Iterator<T>, Iterator<ShardResult>> {
        private static final long serialVersionUID = 1L;
        private final Session session;
        private final Broadcast<byte[]> model;
        private final Broadcast<float[]> params;
        private final long version;
        private final Broadcast<float[]> direction;
        private final long step;
        private final boolean wantGradient;

        Task(Session session, Broadcast<byte[]> model, Broadcast<float[]> params, long version,
             Broadcast<float[]> direction, long step, boolean wantGradient) {
            this.session = session;
            this.model = model;
            this.params = params;
            this.version = version;
            this.direction = direction;
            this.step = step;
            this.wantGradient = wantGradient;
        }

        @Override
        public Iterator<ShardResult> call(Integer j, Iterator<T> rows) throws Exception {
            long t0 = System.nanoTime();
            int before = ShardCache.size();
            // A file session's partitions hold only their numbers; an RDD session's, its samples.
            ShardState st = ShardCache.state(session, j, model.value(), rows);
            long setup = ShardCache.size() != before ? System.nanoTime() - t0 : 0;
            float[] v = direction == null ? null : direction.value();
            return List.of(st.run(version, params.value(), step, v, wantGradient).withSetup(setup)).iterator();
        }
    }
}
