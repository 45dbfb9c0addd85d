package dev.checkprop.spark;

import dev.checkprop.exec.Shards;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;

import java.util.List;

/**
 * K shards of data (a file, or the user's RDD) and a network, computing full-batch (or per-shard mini-batch) losses,
 * gradients and Gauss-Newton products: on Spark ({@link SparkShards}, one job per call) or on this
 * machine ({@link LocalShards}, the shards one after the other). Both run the same
 * {@link ShardState} code on the same rows and combine the shard results on the calling thread in
 * shard order with {@link Shards.Sum}, the rule of {@code grad --shards K} and of micro-batching:
 * the results are the same bits.
 *
 * <p>The parameters are the driver's {@link #network()}: change them in place (an optimizer does)
 * and call {@link #parametersChanged()} before the next call.
 */
public abstract class ShardBackend implements AutoCloseable {

    /**
     * What one call cost, in seconds: shipping the parameters and direction (broadcast), the slowest
     * shard's first-time setup (reading its rows, planning and building its executor; 0 once cached),
     * the slowest shard's executor run (compute), the rest of the job (scheduling, task start,
     * serialising and collecting the results), combining them on the driver, and the whole call.
     */
    public record Timing(double broadcast, double setup, double compute, double collect, double combine, double total) {
    }

    final Session session;
    final Network net;
    final byte[] model;
    long version;
    private Timing last;
    private final Shards.Sum gradientSum = new Shards.Sum();
    private final Shards.Sum productSum = new Shards.Sum();
    private final Gradients scratch;
    private String plans = "";
    /** Told every call's timing once the call is complete (the driver sums a Hessian-free step's jobs). */
    java.util.function.Consumer<Timing> timingListener;

    ShardBackend(Session session, Network net, byte[] model) {
        this.session = session;
        this.net = net;
        this.model = model;
        this.scratch = Gradients.zerosLike(net);
    }

    /** Answers the driver's network, whose parameters every call uses. */
    public Network network() {
        return net;
    }

    /** Answers K. */
    public int shards() {
        return session.shards();
    }

    /** Answers N, the rows of all shards. */
    public int rows() {
        return session.rows();
    }

    /** Marks the parameters as changed: the next call ships them (a broadcast on Spark). */
    public void parametersChanged() {
        version++;
    }

    /** Answers the timing of the last call. */
    public Timing lastTiming() {
        return last;
    }

    /** Answers the plans the shards ran in the last call, e.g. {@code "sqrt, sqrt, sqrt, sqrt"}. */
    public String plans() {
        return plans;
    }

    /**
     * The mean loss of step {@code step}'s batch (every row, or each shard's mini-batch) and its
     * gradient into {@code out}.
     */
    public double gradient(Gradients out, long step) {
        return combine(run(step, null, false), out, null);
    }

    /**
     * The mean loss, the Gauss-Newton product G&middot;v into {@code outProduct} and, unless
     * {@code outGradient} is null, the gradient: one pass per shard.
     */
    public double gaussNewton(Gradients v, Gradients outGradient, Gradients outProduct, long step) {
        return combine(run(step, Flat.of(v), outGradient != null), outGradient, outProduct);
    }

    /** Runs every shard: answers their results in shard order and records the timing. */
    abstract List<ShardResult> run(long step, float[] direction, boolean wantGradient);

    void timing(Timing t) {
        last = t;
    }

    private double combine(List<ShardResult> results, Gradients outGradient, Gradients outProduct) {
        long t0 = System.nanoTime();
        int total = 0;
        for (ShardResult r : results) {
            total += r.rows();
        }
        if (outGradient != null) {
            gradientSum.begin(outGradient, total);
        } else {
            gradientSum.begin(null, total);
        }
        if (outProduct != null) {
            productSum.begin(outProduct, total);
        }
        StringBuilder p = new StringBuilder();
        for (int j = 0; j < results.size(); j++) {
            ShardResult r = results.get(j);
            if (r.shard() != j) {
                throw new IllegalStateException("shard " + r.shard() + " answered in place " + j);
            }
            if (r.rows() == 0) {
                continue;
            }
            p.append(p.length() == 0 ? "" : ", ").append(r.plan());
            if (outGradient != null) {
                Flat.into(r.gradient(), scratch);
                gradientSum.add(r.loss(), r.rows(), scratch);
            } else {
                gradientSum.add(r.loss(), r.rows(), null);
            }
            if (outProduct != null) {
                Flat.into(r.product(), scratch);
                productSum.add(r.loss(), r.rows(), scratch);
            }
        }
        plans = p.toString();
        if (last != null) {
            double combine = (System.nanoTime() - t0) / 1e9;
            last = new Timing(last.broadcast(), last.setup(), last.compute(), last.collect(), combine, last.total() + combine);
            if (timingListener != null) {
                timingListener.accept(last);
            }
        }
        return gradientSum.loss();
    }

    /** Releases the shards' executors. */
    @Override
    public abstract void close();

    /** Answers the largest per-shard setup time of a job, in seconds. */
    static double slowestSetup(List<ShardResult> results) {
        long max = 0;
        for (ShardResult r : results) {
            max = Math.max(max, r.setupNanos());
        }
        return max / 1e9;
    }

    /** Answers the largest per-shard executor time of a job, in seconds. */
    static double slowest(List<ShardResult> results) {
        long max = 0;
        for (ShardResult r : results) {
            max = Math.max(max, r.nanos());
        }
        return max / 1e9;
    }
}
