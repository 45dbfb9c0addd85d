package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;

import java.util.Arrays;

/**
 * Runs a {@link Plan} on a {@link Network}: the only code in checkprop that runs layers. Every plan,
 * full storage included, goes through the same loop, the same kernels and the same buffer pool, so a
 * comparison between plans compares only their recomputation.
 *
 * <p>Order of use: construct once per (network, plan, batch size) — this sizes every buffer — then
 * call {@link #gradient} once per step. The executor holds no reference to a batch between calls.
 * It is not thread-safe: use one executor per thread.
 *
 * <h2>NOTE [Buffer ownership]</h2>
 * Activation buffers are unit-major {@code [n_l, N]} float arrays. They are allocated in the
 * constructor, one pool per distinct layer width, each pool as large as the most activations of
 * that width the plan ever holds at once; {@code F l} takes a buffer from the pool of width
 * n<sub>l</sub>, {@code D l} returns it. The gradient flowing backward uses two ping-pong buffers,
 * and the input and a sample-major copy for the weight gradient use one scratch buffer each: these
 * are constant in the plan, outside the live-buffer count.
 *
 * <h2>NOTE [Why recomputation is bit-exact]</h2>
 * A layer's forward is one kernel call whose every output element follows a fixed chain of
 * fused multiply-adds ({@link DenseKernels}), followed by an activation made of IEEE operations only.
 * Its inputs at recomputation are bit-identical to those of the first sweep, by induction from
 * a<sup>0</sup>, so its outputs are too. Each layer's backward runs exactly once per step, so
 * gradients never depend on how often, or in which order, forwards were repeated.
 *
 * <h2>NOTE [Counting]</h2>
 * The executor keeps its own live set and counters while it runs and checks each action's
 * preconditions itself; it does not read the plan's precomputed statistics.
 */
public final class Executor implements AutoCloseable {

    private final Network net;
    private final Plan plan;
    private final int batch;
    /** Samples in the batch being run (at most {@link #batch}): the stride of every unit-major buffer. */
    private int n;
    private final DenseKernels kernels;
    private final int depth;

    /** Per layer l: index of its width class, and the pools of each class. */
    private final int[] classOf;
    private final float[][][] pools;
    private final int[][] freeStacks;
    private final int[] freeTop;
    /** Per layer l: the buffer currently holding a^l, or null. */
    private final float[][] holder;
    private final int[] holderIndex;

    private final float[] inputUnitMajor;
    private final float[] rowScratch;
    private float[] delta;
    private float[] deltaNext;
    private final float[] branchScratch;
    private final float[] branchGradient;
    private long step;
    private long backwardRecomputations;
    private BackwardObserver observer;

    private final WorkerPool workers;
    private final ForwardJob forwardJob = new ForwardJob();
    private final BackwardJob backwardJob = new BackwardJob();
    private final int[] evaluations;
    private long forwardEvaluations;
    private int liveBuffers;
    private int peakLiveBuffers;
    private long liveBytes;
    private long peakBytes;
    private double lastLoss = Double.NaN;
    private boolean ran;

    /**
     * Prepares to run {@code plan} on {@code net} for batches of {@code batchSize} samples, with the
     * JVM's kernels ({@link Kernels#get()}).
     *
     * @throws IllegalArgumentException if the plan is for a different depth or the batch size is not positive
     */
    public Executor(Network net, Plan plan, int batchSize) {
        this(net, plan, batchSize, Kernels.get());
    }

    /** As {@link #Executor(Network, Plan, int)}, with the given kernels, on the calling thread only. */
    public Executor(Network net, Plan plan, int batchSize, DenseKernels kernels) {
        this(net, plan, batchSize, kernels, 1);
    }

    /**
     * As {@link #Executor(Network, Plan, int)}, with the given kernels and {@code threads} threads
     * (the caller plus {@code threads - 1} daemon workers, released by {@link #close()}). The batch
     * is split across threads for the forward and input-gradient products, and output rows for the
     * weight gradient; every output element is still computed by one thread with one fixed chain of
     * operations, so gradients are bit-identical for every thread count.
     */
    public Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads) {
        if (plan.layers() != net.depth()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers but the network has " + net.depth());
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        this.net = net;
        this.plan = plan;
        this.batch = batchSize;
        this.kernels = kernels;
        this.depth = net.depth();

        int[] widths = new int[depth + 1];
        int maxOut = 0;
        int maxIn = 0;
        for (int l = 0; l <= depth; l++) {
            widths[l] = net.width(l);
            if (l >= 1) {
                maxOut = Math.max(maxOut, widths[l]);
            }
            if (l < depth) {
                maxIn = Math.max(maxIn, widths[l]);
            }
        }
        int[] distinct = Arrays.stream(widths, 1, depth + 1).distinct().sorted().toArray();
        classOf = new int[depth + 1];
        for (int l = 1; l <= depth; l++) {
            classOf[l] = Arrays.binarySearch(distinct, widths[l]);
        }
        int[] need = poolSizes(plan, classOf, distinct.length);
        pools = new float[distinct.length][][];
        freeStacks = new int[distinct.length][];
        freeTop = new int[distinct.length];
        for (int c = 0; c < distinct.length; c++) {
            pools[c] = new float[need[c]][];
            freeStacks[c] = new int[need[c]];
            for (int j = 0; j < need[c]; j++) {
                pools[c][j] = new float[Math.multiplyExact(distinct[c], batchSize)];
            }
        }
        holder = new float[depth + 1][];
        holderIndex = new int[depth + 1];
        inputUnitMajor = new float[Math.multiplyExact(widths[0], batchSize)];
        rowScratch = new float[Math.multiplyExact(maxIn, batchSize)];
        delta = new float[Math.multiplyExact(Math.max(maxOut, maxIn), batchSize)];
        deltaNext = new float[delta.length];
        boolean residual = net.layers().stream().anyMatch(d -> d.kind() == DenseLayer.Kind.RESIDUAL);
        // A residual block's backward recomputes f(z) and needs it beside the incoming gradient.
        branchScratch = residual ? new float[delta.length] : null;
        branchGradient = residual ? new float[delta.length] : null;
        evaluations = new int[depth + 1];
        workers = new WorkerPool(threads, "checkprop-executor");
    }

    /** Simulates the plan to find how many buffers of each width class it holds at once. */
    private static int[] poolSizes(Plan plan, int[] classOf, int classes) {
        int[] live = new int[classes];
        int[] peak = new int[classes];
        for (int i = 0; i < plan.size(); i++) {
            int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    int c = classOf[l];
                    peak[c] = Math.max(peak[c], ++live[c]);
                }
                case DROP -> live[classOf[l]]--;
                default -> {
                }
            }
        }
        return peak;
    }

    /** Answers the plan this executor runs. */
    public Plan plan() {
        return plan;
    }

    /** Answers the network this executor runs. */
    public Network network() {
        return net;
    }

    /** Answers the largest batch the buffers were sized for. */
    public int batchSize() {
        return batch;
    }

    /** Answers the number of threads the executor uses. */
    public int threads() {
        return workers.parts();
    }

    /** Stops the worker threads; the executor cannot be used afterwards. Idempotent. */
    @Override
    public void close() {
        workers.close();
    }

    /** Answers the kernels in use. */
    public DenseKernels kernels() {
        return kernels;
    }

    /** Answers every activation buffer of the pools (the arrays themselves, for memory accounting). */
    public java.util.List<float[]> activationPool() {
        java.util.List<float[]> all = new java.util.ArrayList<>();
        for (float[][] pool : pools) {
            all.addAll(Arrays.asList(pool));
        }
        return all;
    }

    /**
     * Answers the constant scratch arrays: the input transposed, the sample-major copy of a<sup>l-1</sup>
     * and the two buffers of the gradient flowing backward.
     */
    public java.util.List<float[]> workspace() {
        return branchScratch == null ? java.util.List.of(inputUnitMajor, rowScratch, delta, deltaNext)
                : java.util.List.of(inputUnitMajor, rowScratch, delta, deltaNext, branchScratch, branchGradient);
    }

    /** Answers the bytes of activation payload the pools hold: what this plan costs, whatever is live. */
    public long poolPayloadBytes() {
        long b = 0;
        for (float[][] pool : pools) {
            for (float[] buf : pool) {
                b += 4L * buf.length;
            }
        }
        return b;
    }

    /**
     * Computes the loss on {@code data} and writes every parameter gradient into {@code out}, running
     * the plan's actions in order. Allocates nothing.
     *
     * @param data a batch of at most {@link #batchSize()} samples matching the network's widths. Not modified.
     * @param loss the loss
     * @param out  gradients shaped like the network. Modified (overwritten).
     * @return the loss value
     * @throws IllegalArgumentException on a shape or target mismatch (before any layer runs)
     */
    public double gradient(Batch data, Loss loss, Gradients out) {
        return gradient(data, loss, out, -1, null);
    }

    /**
     * Inference: runs layers 1..L on {@code data}'s inputs and writes a<sup>L</sup> row-major
     * {@code [N, n_L]} into {@code out}. Dropout layers pass their input through unchanged (evaluation
     * mode). Needs no plan: two ping-pong buffers suffice, the executor's backward-flow buffers.
     * Allocates nothing.
     *
     * @param out at least {@code N * n_L} floats. Modified.
     * @throws IllegalArgumentException on a shape mismatch
     */
    public void predict(Batch data, float[] out) {
        if (data.size() > batch || data.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException("batch [" + data.size() + ", " + data.inputWidth()
                    + "] does not fit this executor (at most " + batch + " rows of width " + net.inputWidth() + ")");
        }
        if (out.length < data.size() * net.outputWidth()) {
            throw new IllegalArgumentException("out holds " + out.length + " floats, needs " + data.size() * net.outputWidth());
        }
        n = data.size();
        DenseKernels.transpose(n, net.inputWidth(), data.inputs(), inputUnitMajor);
        float[] in = inputUnitMajor;
        float[] cur = delta;
        float[] other = deltaNext;
        for (int l = 1; l <= depth; l++) {
            DenseLayer d = net.layer(l);
            if (d.kind() == DenseLayer.Kind.DROPOUT) {
                continue;
            }
            forwardJob.set(d, l, in, cur);
            workers.run(forwardJob);
            in = cur;
            float[] t = cur;
            cur = other;
            other = t;
        }
        if (in == inputUnitMajor) {
            // Only dropout layers: the output is the input.
            DenseKernels.transpose(net.inputWidth(), n, inputUnitMajor, out);
        } else {
            DenseKernels.transpose(net.outputWidth(), n, in, out);
        }
    }

    /**
     * Sets the training step that dropout masks are drawn for (0 until set). Masks are a pure
     * function of (seed, step, layer, element), so every recomputation within a step replays them.
     */
    public void setStep(long step) {
        this.step = step;
    }

    /** Sets (or clears, with null) an observer of each layer's output during the backward pass. */
    public void setObserver(BackwardObserver observer) {
        this.observer = observer;
    }

    /** Answers the backward recomputations of residual branches in the last call, without allocating. */
    public long lastBackwardRecomputations() {
        return backwardRecomputations;
    }

    /**
     * As {@link #gradient(Batch, Loss, Gradients)}, and calls {@code probe} right after action
     * {@code probeAction} with the activation buffers live at that moment.
     */
    public double gradient(Batch data, Loss loss, Gradients out, int probeAction, PeakProbe probe) {
        checkShapes(data, loss, out);
        resetCounters();
        n = data.size();
        final int n = this.n;
        DenseKernels.transpose(n, net.inputWidth(), data.inputs(), inputUnitMajor);
        int position = -1;
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> forward(l);
                case DROP -> release(l);
                case LOSS -> {
                    requireLive(depth, i);
                    lastLoss = loss.lossAndGradient(holder[depth], net.outputWidth(), data, delta);
                    position = depth;
                }
                case BACKWARD -> {
                    if (l != position) {
                        throw new IllegalStateException("action #" + i + ": backward through layer " + l
                                + " but the backward pass is at layer " + position);
                    }
                    requireLive(l, i);
                    if (l > 1) {
                        requireLive(l - 1, i);
                    }
                    backward(l, data, out);
                    position = l - 1;
                }
            }
            if (i == probeAction && probe != null) {
                java.util.List<float[]> live = new java.util.ArrayList<>();
                for (int k = 1; k <= depth; k++) {
                    if (holder[k] != null) {
                        live.add(holder[k]);
                    }
                }
                probe.atAction(i, live);
            }
        }
        if (position != 0 || liveBuffers != 0) {
            throw new IllegalStateException("plan " + plan.name() + " ended with the backward pass at layer "
                    + position + " and " + liveBuffers + " buffers live");
        }
        ran = true;
        return lastLoss;
    }

    /**
     * Answers what the last {@link #gradient} call counted.
     *
     * @throws IllegalStateException before the first call
     */
    public RunStats lastRun() {
        if (!ran) {
            throw new IllegalStateException("no gradient has been computed yet");
        }
        return new RunStats(lastLoss, forwardEvaluations, peakLiveBuffers, peakBytes, evaluations.clone(),
                backwardRecomputations);
    }

    /** Answers the forward evaluations of the last {@link #gradient} call, without allocating. */
    public long lastForwardEvaluations() {
        return forwardEvaluations;
    }

    /** Answers the peak activation bytes of the last {@link #gradient} call, without allocating. */
    public long lastPeakActivationBytes() {
        return peakBytes;
    }

    private void checkShapes(Batch data, Loss loss, Gradients out) {
        if (data.size() > batch) {
            throw new IllegalArgumentException("batch has " + data.size() + " samples but the executor was sized for at most " + batch);
        }
        if (data.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException("x has width " + data.inputWidth() + " but the network's input a^0 has width "
                    + net.inputWidth());
        }
        loss.checkCompatible(net, data);
        if (out.depth() != depth) {
            throw new IllegalArgumentException("gradients are for " + out.depth() + " layers, the network has " + depth);
        }
        for (int l = 1; l <= depth; l++) {
            if (out.weights(l).length != net.layer(l).weights().length || out.bias(l).length != net.layer(l).bias().length) {
                throw new IllegalArgumentException("gradients of layer " + l + " are not shaped like its parameters");
            }
        }
    }

    private void resetCounters() {
        Arrays.fill(evaluations, 0);
        forwardEvaluations = 0;
        backwardRecomputations = 0;
        liveBuffers = 0;
        peakLiveBuffers = 0;
        liveBytes = 0;
        peakBytes = 0;
        ran = false;
        for (int c = 0; c < pools.length; c++) {
            freeTop[c] = pools[c].length;
            for (int j = 0; j < pools[c].length; j++) {
                freeStacks[c][j] = j;
            }
        }
        Arrays.fill(holder, null);
    }

    private void forward(int l) {
        final float[] in = l == 1 ? inputUnitMajor : holder[l - 1];
        if (in == null) {
            throw new IllegalStateException("forward through layer " + l + " needs a" + (l - 1) + ", which is not live");
        }
        if (holder[l] != null) {
            throw new IllegalStateException("a" + l + " is already live");
        }
        final int c = classOf[l];
        if (freeTop[c] == 0) {
            throw new IllegalStateException("no free buffer of width " + net.width(l) + " for a" + l);
        }
        final int idx = freeStacks[c][--freeTop[c]];
        final float[] outBuf = pools[c][idx];
        final DenseLayer d = net.layer(l);
        forwardJob.set(d, l, in, outBuf);
        workers.run(forwardJob);
        holder[l] = outBuf;
        holderIndex[l] = idx;
        evaluations[l]++;
        forwardEvaluations++;
        liveBuffers++;
        liveBytes += 4L * d.outputWidth() * n;
        if (liveBuffers > peakLiveBuffers) {
            peakLiveBuffers = liveBuffers;
        }
        if (liveBytes > peakBytes) {
            peakBytes = liveBytes;
        }
    }

    private void release(int l) {
        if (holder[l] == null) {
            throw new IllegalStateException("drop of a" + l + ", which is not live");
        }
        final int c = classOf[l];
        freeStacks[c][freeTop[c]++] = holderIndex[l];
        holder[l] = null;
        liveBuffers--;
        liveBytes -= 4L * net.width(l) * n;
    }

    private void requireLive(int l, int action) {
        if (holder[l] == null) {
            throw new IllegalStateException("action #" + action + " needs a" + l + ", which is not live");
        }
    }

    private void backward(int l, Batch data, Gradients out) {
        backwardJob.set(l, data, out);
        switch (net.layer(l).kind()) {
            case DENSE -> {
                if (observer != null) {
                    observer.beforeBackward(l, holder[l], n);
                }
                backwardJob.phase = BackwardJob.ROWS;
                workers.run(backwardJob);
                backwardJob.phase = BackwardJob.PRODUCTS;
                workers.run(backwardJob);
            }
            case RESIDUAL -> {
                backwardJob.phase = BackwardJob.BRANCH;
                workers.run(backwardJob);
                backwardRecomputations++;
                if (observer != null) {
                    observer.beforeBackward(l, branchScratch, n);
                }
                backwardJob.phase = BackwardJob.ROWS;
                workers.run(backwardJob);
                backwardJob.phase = BackwardJob.PRODUCTS;
                workers.run(backwardJob);
            }
            case DROPOUT -> {
                backwardJob.phase = BackwardJob.DROPOUT;
                workers.run(backwardJob);
            }
        }
        if (l > 1) {
            final float[] t = delta;
            delta = deltaNext;
            deltaNext = t;
        }
    }

    /** The part's share of [0, n): contiguous, aligned to 16 so vector loops stay full. */
    static int rangeStart(int n, int part, int parts) {
        final int chunk = ((n + parts - 1) / parts + 15) & ~15;
        return Math.min(n, part * chunk);
    }

    /** The part's share of [0, n) by rows: contiguous, balanced. */
    static int rowStart(int n, int part, int parts) {
        return (int) ((long) n * part / parts);
    }

    /** F l: z = W a + b and a = f(z) for the part's batch columns. */
    private final class ForwardJob implements WorkerPool.Job {
        private DenseLayer layer;
        private int layerIndex;
        private float[] in;
        private float[] out;

        void set(DenseLayer d, int l, float[] input, float[] output) {
            layer = d;
            layerIndex = l;
            in = input;
            out = output;
        }

        @Override
        public void run(int part, int parts) {
            final int i0 = rangeStart(n, part, parts);
            final int i1 = rangeStart(n, part + 1, parts);
            if (i0 >= i1) {
                return;
            }
            final int nOut = layer.outputWidth();
            if (layer.kind() == DenseLayer.Kind.DROPOUT) {
                dropout(layer, layerIndex, in, out, i0, i1);
                return;
            }
            kernels.forward(nOut, layer.inputWidth(), n, layer.weights(), layer.bias(), in, out, i0, i1);
            if (i0 == 0 && i1 == n) {
                layer.activation().applyInPlace(kernels, out, 0, nOut * n);
            } else {
                for (int o = 0; o < nOut; o++) {
                    layer.activation().applyInPlace(kernels, out, o * n + i0, o * n + i1);
                }
            }
            if (layer.kind() == DenseLayer.Kind.RESIDUAL) {
                for (int o = 0; o < nOut; o++) {
                    final int base = o * n;
                    for (int i = i0; i < i1; i++) {
                        out[base + i] += in[base + i];
                    }
                }
            }
        }
    }

    /**
     * Multiplies {@code src} by layer {@code l}'s dropout mask into {@code dst}, for batch columns
     * i0..i1. The mask element of (sample i, unit u) is indexed i&middot;width + u, independent of the
     * batch stride and the thread split.
     */
    private void dropout(DenseLayer d, int l, float[] src, float[] dst, int i0, int i1) {
        final int width = d.outputWidth();
        final int n = this.n;
        for (int u = 0; u < width; u++) {
            final int base = u * n;
            for (int i = i0; i < i1; i++) {
                dst[base + i] = src[base + i] * d.dropoutScale(step, l, (long) i * width + u);
            }
        }
    }

    /**
     * B l in phases, each a job over all threads:
     * <ul>
     * <li>{@link #BRANCH} (residual only, by batch columns): recompute h = f(W a^(l-1) + b) — f' cannot
     *     be recovered accurately from a^l &minus; a^(l-1) — and the branch gradient g &odot; f'(h);</li>
     * <li>{@link #ROWS} (by output rows): for a dense layer, f' applied to the incoming gradient; the
     *     bias gradient; the sample-major copy of a^(l-1);</li>
     * <li>{@link #PRODUCTS}: the weight gradient by output rows and the gradient for a^(l-1) by batch
     *     columns (plus the skip connection's identity term for a residual block);</li>
     * <li>{@link #DROPOUT} (by batch columns): the gradient through the replayed mask.</li>
     * </ul>
     */
    private final class BackwardJob implements WorkerPool.Job {
        static final int ROWS = 0;
        static final int PRODUCTS = 1;
        static final int BRANCH = 2;
        static final int DROPOUT = 3;

        private int l;
        private Batch data;
        private Gradients out;
        int phase;

        void set(int layerIndex, Batch batchData, Gradients gradients) {
            l = layerIndex;
            data = batchData;
            out = gradients;
        }

        @Override
        public void run(int part, int parts) {
            final DenseLayer d = net.layer(l);
            final int nOut = d.outputWidth();
            final int nIn = d.inputWidth();
            final int n = Executor.this.n;
            final boolean residual = d.kind() == DenseLayer.Kind.RESIDUAL;
            // The gradient with respect to z: in place in delta for a dense layer, beside it for a residual one.
            final float[] g = residual ? branchGradient : delta;
            final float[] in = l == 1 ? inputUnitMajor : holder[l - 1];
            switch (phase) {
                case BRANCH -> {
                    final int i0 = rangeStart(n, part, parts);
                    final int i1 = rangeStart(n, part + 1, parts);
                    if (i0 >= i1) {
                        return;
                    }
                    kernels.forward(nOut, nIn, n, d.weights(), d.bias(), in, branchScratch, i0, i1);
                    for (int o = 0; o < nOut; o++) {
                        final int a = o * n + i0;
                        final int b = o * n + i1;
                        d.activation().applyInPlace(kernels, branchScratch, a, b);
                        System.arraycopy(delta, a, branchGradient, a, b - a);
                        d.activation().backwardInPlace(kernels, branchScratch, branchGradient, a, b);
                    }
                }
                case ROWS -> {
                    final int o0 = rowStart(nOut, part, parts);
                    final int o1 = rowStart(nOut, part + 1, parts);
                    if (!residual) {
                        d.activation().backwardInPlace(kernels, holder[l], g, o0 * n, o1 * n);
                    }
                    DenseKernels.biasGradient(n, g, out.bias(l), o0, o1);
                    if (l > 1 && part == 0) {
                        DenseKernels.transpose(nIn, n, holder[l - 1], rowScratch);
                    }
                }
                case PRODUCTS -> {
                    final int o0 = rowStart(nOut, part, parts);
                    final int o1 = rowStart(nOut, part + 1, parts);
                    final float[] aRows = l == 1 ? data.inputs() : rowScratch;
                    kernels.weightGradient(nOut, nIn, n, g, aRows, out.weights(l), o0, o1);
                    if (l > 1) {
                        final int i0 = rangeStart(n, part, parts);
                        final int i1 = rangeStart(n, part + 1, parts);
                        if (i0 < i1) {
                            kernels.backwardInput(nOut, nIn, n, d.weights(), g, deltaNext, i0, i1);
                            if (residual) {
                                for (int k = 0; k < nIn; k++) {
                                    final int base = k * n;
                                    for (int i = i0; i < i1; i++) {
                                        deltaNext[base + i] += delta[base + i];
                                    }
                                }
                            }
                        }
                    }
                }
                case DROPOUT -> {
                    if (l > 1) {
                        final int i0 = rangeStart(n, part, parts);
                        final int i1 = rangeStart(n, part + 1, parts);
                        if (i0 < i1) {
                            dropout(d, l, delta, deltaNext, i0, i1);
                        }
                    }
                }
                default -> throw new IllegalStateException("phase " + phase);
            }
        }
    }
}
