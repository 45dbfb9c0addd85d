package dev.checkprop.spark;

import dev.checkprop.data.Batcher;
import dev.checkprop.data.Dataset;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.train.ShardedGradient;

import java.io.IOException;

/**
 * One shard as an executor JVM keeps it between jobs: its rows, a copy of the network, its
 * {@link ShardedGradient.Worker} (plan and executor, built once) and its output arrays. The same
 * class serves a Spark partition and the single-machine {@link LocalShards}, so both compute the
 * same bits from the same inputs. Runs one job at a time.
 */
final class ShardState implements AutoCloseable {

    final Session session;
    final int shard;
    final int from;
    final int to;
    final String name;
    private final Network net;
    private final Batch rows;
    private final Batcher batcher;
    private final ShardedGradient.Worker worker;
    private final Gradients gradient;
    private final Gradients product;
    private final Gradients direction;
    private long version = -1;

    private ShardState(Session s, int j, Network net, Batch rows) {
        this.session = s;
        this.shard = j;
        this.from = s.data().from(s.shards(), j);
        this.to = s.data().to(s.shards(), j);
        this.name = ShardedGradient.name(j, s.shards(), from, to, s.data().name());
        this.net = net;
        this.rows = rows;
        if (rows == null) {
            batcher = null;
            worker = null;
            gradient = product = direction = null;
            return;
        }
        final int used = s.miniBatch() > 0 ? s.miniBatch() : rows.size();
        if (s.miniBatch() > rows.size()) {
            throw new IllegalArgumentException(name + ": a mini-batch of " + s.miniBatch() + " rows per shard is more than"
                    + " the shard's " + rows.size());
        }
        this.batcher = s.miniBatch() > 0 ? new Batcher(Dataset.of(rows), s.miniBatch(), s.shardSeed(j)) : null;
        int params = Flat.count(net);
        long[] held = s.miniBatch() > 0
                ? new long[] {params, params, params, (long) rows.size() * (rows.inputWidth() + Math.max(1, rows.targetWidth()))}
                : new long[] {params, params, params};
        long usable = HeapBudget.usable() / Math.max(1, s.shardsPerJvm());
        this.worker = new ShardedGradient.Worker(net, s.plan(), used, rows.labels() != null, held, s.mode(), usable,
                s.threads(), name);
        this.gradient = Gradients.zerosLike(net);
        this.product = s.mode() == dev.checkprop.nn.StateModel.Mode.CURVATURE ? Gradients.zerosLike(net) : null;
        this.direction = product != null ? Gradients.zerosLike(net) : null;
    }

    /**
     * Reads the shard's rows (from the file, or the partition's samples, {@code rdd}) and the
     * model, checks them against each other, and plans and builds the executor.
     *
     * @param rdd the partition's samples for an RDD session, else unused
     */
    static ShardState create(Session s, int j, byte[] model, java.util.Iterator<?> rdd) throws IOException {
        final int from = s.data().from(s.shards(), j);
        final int to = s.data().to(s.shards(), j);
        final String name = ShardedGradient.name(j, s.shards(), from, to, s.data().name());
        Network net = ModelFile.fromSafeTensors(SafeTensors.read(model, "the model"), "the model");
        if (from == to) {
            return new ShardState(s, j, net, null);
        }
        Batch rows = s.data() instanceof RddRows ? RddRows.batch(rdd, from, to, s.loss(), name)
                : ShardCache.rows(s.data(), from, to, s.loss(), name);
        if (rows.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException(name + ": x has width " + rows.inputWidth()
                    + " but the model takes inputs of width " + net.inputWidth());
        }
        try {
            s.loss().checkCompatible(net, rows);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
        return new ShardState(s, j, net, rows);
    }

    /**
     * Runs one job on this shard.
     *
     * @param version    the parameters' version: when it differs from the last, {@code params} are copied in
     * @param params     the parameters, flat
     * @param direction  null for a gradient, else v for a Gauss-Newton product
     * @param wantGradient with a product: whether to form the gradient too
     */
    synchronized ShardResult run(long version, float[] params, long step, float[] direction, boolean wantGradient) {
        if (rows == null) {
            return new ShardResult(shard, 0, 0, null, null, "-", 0, 0);
        }
        if (version != this.version) {
            Flat.into(params, net);
            this.version = version;
        }
        final Batch b = batcher != null ? batcher.batch(step) : rows;
        final long t0 = System.nanoTime();
        final double loss;
        float[] g = null;
        float[] p = null;
        if (direction == null) {
            loss = worker.gradient(b, session.loss(), gradient, step);
            g = Flat.of(gradient);
        } else {
            if (this.direction == null) {
                throw new IllegalStateException(name + ": this session was not built for curvature products");
            }
            Flat.into(direction, this.direction);
            loss = worker.gaussNewton(b, session.loss(), this.direction, wantGradient ? gradient : null, product, step);
            p = Flat.of(product);
            g = wantGradient ? Flat.of(gradient) : null;
        }
        final long nanos = System.nanoTime() - t0;
        return new ShardResult(shard, b.size(), loss, g, p, worker.selection().plan().name(), nanos, 0);
    }

    @Override
    public synchronized void close() {
        if (worker != null) {
            worker.close();
        }
    }
}
