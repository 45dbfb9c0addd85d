package dev.checkprop.train;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.Shards;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.memory.MemoryCategory;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.select.PlanSelection;

import java.util.Locale;

/**
 * The gradient of a batch split into K shards ({@link Shards}: contiguous row ranges, combined in
 * shard order), each shard run whole by its own executor under its own plan. This is what
 * {@code grad --shards K} computes on one machine and what the Spark module computes with one
 * partition per shard, so the two give the same bits.
 *
 * <p>A shard is never split further: where {@code auto} would fall back to micro-batches (which
 * would make the result depend on the heap), {@link #select} refuses with a pre-flight message
 * instead, as it does for a given plan that does not fit. Every plan gives the same bits for a
 * shard, so shards may be planned differently (by the heap each executor has) without changing the
 * result.
 */
public final class ShardedGradient {

    private ShardedGradient() {
    }

    /**
     * Plans one shard of {@code rows} rows, or refuses before anything is allocated.
     *
     * @param spec        a plan string ({@link PlanSelection})
     * @param heldLengths float (or int) arrays held besides the executor and its shard: the whole
     *                    batch on one machine, the combined sum, ...
     * @param usableHeap  the heap this shard may use (a JVM running several shards at once gives
     *                    each a share)
     * @param shard       names the shard in messages, e.g. {@code "shard 2 of 4 (rows 6..8 of d.safetensors)"}
     * @throws IllegalStateException naming the shard when it does not fit in one pass
     */
    public static PlanSelection.Selection select(String spec, Network net, int rows, boolean labels, long[] heldLengths,
                                                 StateModel.Mode mode, long usableHeap, String shard) {
        return select(spec, net, rows, labels, heldLengths, mode, usableHeap, shard,
                Runtime.getRuntime().availableProcessors(), null);
    }

    /**
     * {@link #select(String, Network, int, boolean, long[], StateModel.Mode, long, String)} for an
     * executor on {@code threads} threads spilling to {@code spillDir} (null: the default), where the
     * tier probe measures.
     */
    public static PlanSelection.Selection select(String spec, Network net, int rows, boolean labels, long[] heldLengths,
                                                 StateModel.Mode mode, long usableHeap, String shard, int threads,
                                                 java.nio.file.Path spillDir) {
        final PlanSelection.Selection sel;
        if (spec.trim().equalsIgnoreCase("auto")) {
            try {
                sel = PlanSelection.auto(net, rows, labels, heldLengths, mode, ArrayLayout.current().heapFootprint(),
                        usableHeap, threads, spillDir);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(shard + ": " + e.getMessage() + " or use more shards", e);
            }
            if (sel.microBatches() > 1) {
                throw new IllegalStateException(String.format(Locale.ROOT,
                        "%s: its %d rows do not fit %s of heap in one pass even under the tightest plan (auto would"
                                + " split them into %d micro-batches, which changes the bits); use more shards or a larger -Xmx",
                        shard, rows, HeapBudget.human(usableHeap), sel.microBatches()));
            }
        } else {
            try {
                sel = PlanSelection.select(spec, net, rows, labels, heldLengths, mode, threads, spillDir);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(shard + ": " + e.getMessage(), e);
            }
        }
        check(shard, sel.plan().name(), sel.predicted(), usableHeap);
        return sel;
    }

    /**
     * The heap pre-flight check of one shard: {@link HeapBudget#check}'s test and wording, against
     * {@code usableHeap}.
     *
     * @throws IllegalStateException naming the shard, the plan, its predicted total and the heap
     */
    public static void check(String shard, String planName, MemoryModel.Prediction p, long usableHeap) {
        if (p.total() > usableHeap) {
            long max = Runtime.getRuntime().maxMemory();
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "%s: plan %s needs %s of heap (activations %s, parameters and gradients %s) but this JVM can give %s"
                            + "%s (-Xmx %s less a %d%% + %d MiB margin); use --plan auto, a budget:BYTES plan, more shards,"
                            + " or a larger -Xmx",
                    shard, planName, HeapBudget.human(p.total()), HeapBudget.human(p.bytes(MemoryCategory.ACTIVATIONS)),
                    HeapBudget.human(p.bytes(MemoryCategory.PARAMETERS) + p.bytes(MemoryCategory.GRADIENTS)),
                    HeapBudget.human(usableHeap), usableHeap < HeapBudget.usable() ? " to this shard" : "",
                    HeapBudget.human(max), HeapBudget.MARGIN_FRACTION_PERCENT, HeapBudget.MARGIN_FIXED_MIB));
        }
    }

    /** Answers the lengths of the arrays of one set of gradients for {@code net} (for {@code heldLengths}). */
    public static long[] gradientLengths(Network net) {
        long[] a = new long[2 * net.depth()];
        for (int l = 1; l <= net.depth(); l++) {
            a[2 * (l - 1)] = net.layer(l).weights().length;
            a[2 * (l - 1) + 1] = net.layer(l).bias().length;
        }
        return a;
    }

    /** Answers {@code "shard J of K (rows A..B-1 of SOURCE)"}, how every message names a shard. */
    public static String name(int j, int k, int from, int to, String source) {
        return "shard " + j + " of " + k + " (rows " + from + ".." + (to - 1) + " of " + source + ")";
    }

    /**
     * One shard's executor: planned by {@link #select}, built once, run on the shard as many times
     * as needed (the network's parameters may change in place between runs, as in training).
     * Confined to one thread at a time, as its executor is.
     */
    public static final class Worker implements AutoCloseable {

        private final PlanSelection.Selection selection;
        private final Executor exec;
        private final int rows;

        /**
         * Plans the shard ({@link #select}) and builds its executor: for gradients, or for
         * Gauss-Newton products as well when {@code mode} is {@link StateModel.Mode#CURVATURE}.
         */
        public Worker(Network net, String spec, int rows, boolean labels, long[] heldLengths, StateModel.Mode mode,
                      long usableHeap, int threads, String shard) {
            this(net, spec, rows, labels, heldLengths, mode, usableHeap, threads, shard, null);
        }

        /** As the constructor above, with a tiered plan's disk copies in {@code spillDir} (null: the default). */
        public Worker(Network net, String spec, int rows, boolean labels, long[] heldLengths, StateModel.Mode mode,
                      long usableHeap, int threads, String shard, java.nio.file.Path spillDir) {
            this.selection = select(spec, net, rows, labels, heldLengths, mode, usableHeap, shard, threads, spillDir);
            this.rows = rows;
            this.exec = mode == StateModel.Mode.CURVATURE
                    ? Executor.forHessianProducts(net, selection.plan(), rows, Kernels.get(), threads, spillDir)
                    : new Executor(net, selection.plan(), rows, Kernels.get(), threads, spillDir);
        }

        /** Answers the shard's plan and its prediction. */
        public PlanSelection.Selection selection() {
            return selection;
        }

        /** Answers the executor (its counters describe the last run). */
        public Executor executor() {
            return exec;
        }

        /** Answers the rows this worker was sized for. */
        public int rows() {
            return rows;
        }

        /** The shard's mean loss, and its gradient into {@code out}. */
        public double gradient(Batch shard, Loss loss, Gradients out, long step) {
            exec.setStep(step);
            return exec.gradient(shard, loss, out);
        }

        /** The shard's mean loss, its gradient (unless null) and its Gauss-Newton product G&middot;v. */
        public double gaussNewton(Batch shard, Loss loss, Gradients v, Gradients outGradient, Gradients outProduct,
                                  long step) {
            exec.setStep(step);
            return exec.hessianVector(shard, loss, v, outGradient, outProduct, Curvature.GAUSS_NEWTON);
        }

        @Override
        public void close() {
            exec.close();
        }
    }

    /**
     * On one machine: the gradient of {@code batch} in {@code k} shards into {@code out}, each shard
     * planned from {@code spec} for this JVM's heap (the whole batch and the sum held besides),
     * shards of equal size sharing one executor. Answers the combined mean loss.
     */
    public static double gradient(Network net, Batch batch, Loss loss, String spec, int k, int threads, long step,
                                  String source, Gradients out) {
        return gradient(net, batch, loss, spec, k, threads, step, source, out, null);
    }

    /** As {@link #gradient(Network, Batch, Loss, String, int, int, long, String, Gradients)}, spilling to {@code spillDir} (null: the default). */
    public static double gradient(Network net, Batch batch, Loss loss, String spec, int k, int threads, long step,
                                  String source, Gradients out, java.nio.file.Path spillDir) {
        final int n = batch.size();
        final int count = Shards.count(n, k);
        final long[] grads = gradientLengths(net);
        final long[] held = java.util.Arrays.copyOf(grads, grads.length + 2);
        held[grads.length] = (long) n * batch.inputWidth();
        held[grads.length + 1] = batch.labels() != null ? n : (long) n * batch.targetWidth();
        final Gradients part = Gradients.zerosLike(net);
        final Shards.Sum sum = new Shards.Sum(out, n);
        Worker w = null;
        try {
            for (int j = 0; j < count; j++) {
                final int from = Shards.from(n, k, j);
                final int to = Shards.to(n, k, j);
                if (w == null || w.rows() != to - from) {
                    if (w != null) {
                        w.close();
                        w = null;
                    }
                    w = new Worker(net, spec, to - from, batch.labels() != null, held, StateModel.Mode.GRADIENT,
                            HeapBudget.usable(), threads, name(j, k, from, to, source), spillDir);
                }
                final Batch shard = count == 1 ? batch : batch.slice(from, to);
                sum.add(w.gradient(shard, loss, part, step), to - from, part);
            }
        } finally {
            if (w != null) {
                w.close();
            }
        }
        return sum.loss();
    }
}
