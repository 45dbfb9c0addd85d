package dev.checkprop.train;

import dev.checkprop.data.Batcher;
import dev.checkprop.exec.Executor;
import dev.checkprop.exec.MicroBatches;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;

/**
 * The training loop's glue: one step = a mini-batch from the {@link Batcher}, its gradient under the
 * plan (as micro-batches when asked), and the optimizer's update.
 *
 * <h2>Order of use</h2>
 * Construct once (this builds the executor and its buffers), call {@link #step(long)} with steps
 * 0, 1, 2, ..., and {@link #close()} at the end to release the executor's threads. The step number
 * also seeds the dropout masks, so a run is a pure function of its seeds: two runs with the same
 * seeds and any plan produce the same losses and weights bit for bit.
 */
public final class Trainer implements AutoCloseable {

    private final Network net;
    private final Loss loss;
    private final Batcher batcher;
    private final Optimizer optimizer;
    private final Executor exec;
    private final MicroBatches micro;
    private final Gradients gradients;
    private final HessianFree hessianFree;

    /**
     * @param plan         the plan, for micro-batches of {@code microBatchSize} samples
     * @param microBatches how many micro-batches each mini-batch is split into (1: none)
     */
    public Trainer(Network net, Loss loss, Batcher batcher, Optimizer optimizer, Plan plan, int microBatches,
                   int microBatchSize, int threads) {
        this(net, loss, batcher, optimizer, plan, microBatches, microBatchSize, threads, null);
    }

    /** As the constructor above, with the disk tier's copies in {@code spillDir} (null: the default). */
    public Trainer(Network net, Loss loss, Batcher batcher, Optimizer optimizer, Plan plan, int microBatches,
                   int microBatchSize, int threads, java.nio.file.Path spillDir) {
        this.net = net;
        this.loss = loss;
        this.batcher = batcher;
        this.optimizer = optimizer;
        this.exec = new Executor(net, plan, microBatchSize, Kernels.get(), threads, spillDir);
        this.micro = new MicroBatches(exec, microBatches);
        this.gradients = Gradients.zerosLike(net);
        this.hessianFree = null;
    }

    private Trainer(Network net, Loss loss, Batcher batcher, Plan plan, int threads, HessianFree.Settings settings,
                    java.nio.file.Path spillDir) {
        this.net = net;
        this.loss = loss;
        this.batcher = batcher;
        this.exec = Executor.forHessianProducts(net, plan, batcher.batchSize(), Kernels.get(), threads, spillDir);
        this.hessianFree = new HessianFree(exec, loss, settings);
        this.optimizer = hessianFree;
        this.micro = null;
        this.gradients = null;
    }

    /**
     * A trainer whose steps are Hessian-free (truncated Newton) steps: the executor is built for
     * Gauss-Newton products, so {@code plan} holds (a, R{a}) pairs and should be planned for them
     * (see {@link dev.checkprop.nn.StateModel.Mode#CURVATURE}). No micro-batching.
     */
    public static Trainer hessianFree(Network net, Loss loss, Batcher batcher, Plan plan, int threads,
                                      HessianFree.Settings settings) {
        return new Trainer(net, loss, batcher, plan, threads, settings, null);
    }

    /** As {@link #hessianFree(Network, Loss, Batcher, Plan, int, HessianFree.Settings)}, with a spill directory (null: the default). */
    public static Trainer hessianFree(Network net, Loss loss, Batcher batcher, Plan plan, int threads,
                                      HessianFree.Settings settings, java.nio.file.Path spillDir) {
        return new Trainer(net, loss, batcher, plan, threads, settings, spillDir);
    }

    /** Runs step {@code step}: gradient of its mini-batch, then the update. Answers the mini-batch loss. */
    public double step(long step) {
        Batch b = batcher.batch(step);
        exec.setStep(step);
        if (hessianFree != null) {
            double value = hessianFree.step(b, Math.toIntExact(step)).loss();
            if (!Double.isFinite(value)) {
                throw new IllegalStateException("the loss became " + value + " at step " + step);
            }
            return value;
        }
        double value = micro.gradient(b, loss, gradients);
        if (!Double.isFinite(value)) {
            throw new IllegalStateException("the loss became " + value + " at step " + step
                    + ": lower the learning rate");
        }
        optimizer.step(gradients, Math.toIntExact(step));
        return value;
    }

    /** Answers the executor (its counters describe the last gradient computation). */
    public Executor executor() {
        return exec;
    }

    /** Answers the optimizer. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** Answers the gradients of the last step (backing arrays; null for Hessian-free). */
    public Gradients gradients() {
        return gradients;
    }

    /** Answers the network being trained. */
    public Network network() {
        return net;
    }

    @Override
    public void close() {
        exec.close();
    }
}
