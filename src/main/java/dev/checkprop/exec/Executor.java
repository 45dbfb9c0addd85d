package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.LossCurvature;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Simulation;
import dev.checkprop.plan.Tier;

import java.util.List;
import java.util.Objects;

/**
 * Runs a {@link Plan} on a {@link Network}: the only code in checkprop that runs layers. It is an
 * interpreter of the plan's actions over an activation store, with threads and counters; the maths
 * of every layer lives with the layer ({@link Layer}), so any layer, a user's own included, runs
 * under every plan. Every plan, full storage included, goes through the same loop, the same kernels
 * and the same buffers, so a comparison between plans compares only their recomputation.
 *
 * <p>Order of use: construct once per (network, plan, batch size) &mdash; this allocates every buffer
 * &mdash; then call {@link #gradient} once per step. The executor holds no reference to a batch
 * between calls. It is not thread-safe: use one executor per thread. A call from a second thread
 * while one is in progress fails at once with a {@link java.util.ConcurrentModificationException}
 * and changes nothing ({@link ConfinementGuard}). A loss, gradient or product that is not finite is a
 * {@link NonFiniteException} naming the first layer concerned.
 *
 * <h2>NOTE [Buffer ownership]</h2>
 * The states (a<sup>l</sup> and its tape, see {@link StateModel}) live in buffers the plan's
 * {@link Simulation} sizes and assigns: {@code F l} writes the buffer the simulation names for that
 * action, {@code D l} frees it. Besides them, constant in the plan: a<sup>0</sup> transposed, two
 * ping-pong buffers for &part;L/&part;a flowing backward, and the scratch each kind of layer declares
 * ({@link Layer#scratch}), one set per layer class. {@link #workspace()} answers those arrays.
 *
 * <h2>NOTE [Why recomputation is bit-exact]</h2>
 * A layer's forward gives each output element by one fixed chain of IEEE operations whatever the
 * thread split ({@link Layer}); its inputs at recomputation are bit-identical to those of the first
 * sweep, by induction from a<sup>0</sup>, so its outputs are too. Each layer's backward runs exactly
 * once per step, so gradients never depend on how often, or in which order, forwards were repeated.
 *
 * <h2>NOTE [Counting]</h2>
 * The executor keeps its own live set and counters while it runs and checks each action's
 * preconditions itself; it does not read the plan's precomputed statistics.
 *
 * <h2>NOTE [Curvature products]</h2>
 * An executor built by {@link #forHessianProducts} also computes curvature-vector products
 * ({@link #hessianVector}) with Pearlmutter's R-operator, R{x} = d/dr x(&theta; + r v) at r = 0, in one
 * forward R-pass and one backward R-pass under the same plan: it calls the layers' tangent methods
 * ({@link Layer#forwardWithTangent}, {@link Layer#backwardWithTangent}) where a gradient calls
 * {@link Layer#forward} and {@link Layer#backward}. Every state buffer then has a twin holding its
 * R-image, so a state costs twice the bytes ({@link StateModel.Mode#CURVATURE}); a plain
 * {@link #gradient} call on such an executor runs the plain pass and gives the same bits.
 */
public final class Executor implements AutoCloseable {

    private final Network net;
    private final Plan plan;
    private final int batch;
    private final DenseKernels kernels;
    private final int depth;
    private final ConfinementGuard guard = new ConfinementGuard();
    private final boolean curvatureMode;
    private final StateStore store;
    private final Workspace space;

    private final WorkerPool workers;
    private final Context ctx;
    private final Context belowCtx;
    private final int rowChunk;
    private long step;
    private ExecutionListener listener;

    private long forwardNanos;
    private long lossNanos;
    private long backwardNanos;
    private double lastLoss = Double.NaN;
    private boolean ran;

    /**
     * Prepares to run {@code plan} on {@code net} for batches of {@code batchSize} samples, with the
     * JVM's kernels ({@link Kernels#get()}), on the calling thread only.
     *
     * @throws IllegalArgumentException if the plan is for a different depth, is invalid, or the batch size is not positive
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
     * (the caller plus {@code threads - 1} daemon workers, released by {@link #close()}). Threads take
     * chunks of each layer's work as they become free; every output element is still computed by one
     * thread with one fixed chain of operations, so gradients are bit-identical for every thread count.
     */
    public Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads) {
        this(net, plan, batchSize, kernels, threads, StateModel.Mode.GRADIENT, null);
    }

    /**
     * As {@link #Executor(Network, Plan, int, DenseKernels, int)}, with the disk tier's copies in a run
     * directory inside {@code spillDir} (null: {@link #defaultSpillDirectory()}); only a plan that writes
     * to disk uses it. See {@code docs/tiers.md}.
     *
     * @throws IllegalStateException        if the plan's tier copies do not fit (direct memory, free disk
     *                                      space), before anything is allocated
     * @throws java.io.UncheckedIOException if the spill directory is missing or a spill file cannot be made
     */
    public Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads, java.nio.file.Path spillDir) {
        this(net, plan, batchSize, kernels, threads, StateModel.Mode.GRADIENT, spillDir);
    }

    /** Answers where the disk tier's copies go when no spill directory is named: {@code java.io.tmpdir}. */
    public static java.nio.file.Path defaultSpillDirectory() {
        return java.nio.file.Path.of(System.getProperty("java.io.tmpdir"));
    }

    /**
     * Answers an executor that also computes Hessian- and Gauss-Newton-vector products
     * ({@link #hessianVector}), as {@link #Executor(Network, Plan, int, DenseKernels, int)} otherwise.
     * Every state buffer has an R-twin (the plan's state memory doubles: plan budgets in
     * {@link StateModel.Mode#CURVATURE}), plus two R{&part;L/&part;a} buffers and the layers' tangent
     * scratch. {@link #gradient} still works and gives the same bits as on a plain executor.
     *
     * @throws UnsupportedOperationException if a layer has no R-operator (does not override both tangent
     *                                       methods), before anything is allocated
     */
    public static Executor forHessianProducts(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads) {
        return new Executor(net, plan, batchSize, kernels, threads, StateModel.Mode.CURVATURE, null);
    }

    /** As {@link #forHessianProducts(Network, Plan, int, DenseKernels, int)}, with a spill directory (null: the default). */
    public static Executor forHessianProducts(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads,
                                              java.nio.file.Path spillDir) {
        return new Executor(net, plan, batchSize, kernels, threads, StateModel.Mode.CURVATURE, spillDir);
    }

    private Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads, StateModel.Mode mode,
                     java.nio.file.Path spillDir) {
        if (plan.layers() != net.depth()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers but the network has " + net.depth());
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (mode == StateModel.Mode.CURVATURE) {
            requireTangents(net);
        }
        final java.nio.file.Path spill = spillDir != null ? spillDir : defaultSpillDirectory();
        StateStore.preflight(net, plan, batchSize, mode, spill);
        // Before this executor allocates anything, so that the warm-up's buffers are garbage by then.
        WarmUp.compile(net, batchSize, kernels, threads);
        this.net = net;
        this.plan = plan;
        this.batch = batchSize;
        this.kernels = kernels;
        this.depth = net.depth();
        this.curvatureMode = mode == StateModel.Mode.CURVATURE;

        store = new StateStore(net, plan, batchSize, mode, spill);
        try {
            space = new Workspace(net, batchSize, mode);
            workers = new WorkerPool(threads, "checkprop-executor");
        } catch (RuntimeException | Error e) {
            store.close(); // the tiers' thread, memory and spill files
            throw e;
        }
        int widest = 0;
        for (int l = 0; l <= depth; l++) {
            widest = Math.max(widest, net.width(l));
        }
        rowChunk = rowChunk(threads, widest, batchSize, kernels.rowGrain(batchSize));
        final int sampleChunk = threads == 1 ? 1 << 24 : 16;
        ctx = new Context(kernels, workers, rowChunk, sampleChunk);
        belowCtx = new Context(kernels, workers, rowChunk, sampleChunk);
    }

    /** Refuses, before anything is allocated, a network with a layer that does not implement both tangent methods. */
    private static void requireTangents(Network net) {
        for (int l = 1; l <= net.depth(); l++) {
            final Layer layer = net.layer(l);
            for (String m : new String[] {"forwardWithTangent", "backwardWithTangent"}) {
                try {
                    if (layer.getClass().getMethod(m, dev.checkprop.nn.LayerContext.class).getDeclaringClass() == Layer.class) {
                        throw new UnsupportedOperationException("layer " + l + " (" + layer.describe() + ", "
                                + layer.getClass().getName() + ") has no R-operator (" + m
                                + " is not implemented): curvature products cannot pass it");
                    }
                } catch (NoSuchMethodException e) {
                    throw new AssertionError(e);
                }
            }
        }
    }

    /**
     * Rows per chunk: whole register tiles ({@code grain} rows each, see
     * {@link DenseKernels#rowGrain}), as many per chunk as gives each thread about eight chunks of
     * the widest layer, or two when one layer's activations ({@code width x batch} floats) pass
     * {@value #LARGE_OPERAND_BYTES} bytes, and never fewer chunks than threads share evenly.
     * Several chunks per thread, so that a thread delayed by the OS holds the others at the end of a
     * job for one chunk at most; chunks of several tiles, because every chunk streams the whole of
     * the other operand (the activations, in the forward product): once that is larger than a
     * core's L2 cache, each chunk reads it from L3 or DRAM again, so fewer, larger chunks (measured
     * at width 256 and batch 4096: 16-row chunks read the 4 MiB of a^(l-1) sixteen times per layer).
     */
    static int rowChunk(int threads, int width, int batch, int grain) {
        if (threads == 1) {
            return 1 << 24;
        }
        final int tiles = (width + grain - 1) / grain;
        final int perThread = 4L * width * batch >= LARGE_OPERAND_BYTES ? 2 : 8;
        return grain * Math.max(1, tiles / (threads * perThread));
    }

    /** An operand this large no longer stays in a core's L2 cache (1 MiB and more on current x86 server cores). */
    private static final long LARGE_OPERAND_BYTES = 1L << 20;

    /** Answers the plan this executor runs. */
    public Plan plan() {
        return plan;
    }

    /** Answers the simulation of the plan this executor's buffers follow. */
    public Simulation simulation() {
        return store.simulation();
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
        return workers.threads();
    }

    /** Answers the kernels in use. */
    public DenseKernels kernels() {
        return kernels;
    }

    /** Whether this executor was built by {@link #forHessianProducts} and can run {@link #hessianVector}. */
    public boolean hessianProducts() {
        return curvatureMode;
    }

    /** Answers the mode this executor's states were sized for. */
    public StateModel.Mode mode() {
        return curvatureMode ? StateModel.Mode.CURVATURE : StateModel.Mode.GRADIENT;
    }

    /**
     * Stops the worker threads; the executor cannot be used afterwards. Idempotent.
     *
     * @throws java.util.ConcurrentModificationException if another thread is in a call (stopping its
     *                                                   workers would leave that call waiting forever)
     */
    @Override
    public void close() {
        guard.enter("close");
        try {
            workers.close();
            store.close();
        } finally {
            guard.exit();
        }
    }

    /** Answers every state buffer (the arrays themselves, for memory accounting), and in curvature mode their twins after them. */
    public List<float[]> activationPool() {
        return store.buffers();
    }

    /** Answers the constant arrays besides the states ({@link Workspace}). */
    public List<float[]> workspace() {
        return space.arrays();
    }

    /** Answers this executor's tiers (slots, spill file, I/O thread), or null for a plan without tier actions. */
    public dev.checkprop.tier.TierStorage tiers() {
        return store.tiers();
    }

    /** Answers the nanoseconds the last call waited for tier copies, without allocating (0 without tiers). */
    public long lastIoWaitNanos() {
        return store.tiers() == null ? 0 : store.tiers().io().waitNanos();
    }

    /** Answers the payload bytes of the state buffers (twins included): what this plan costs, whatever is live. */
    public long poolPayloadBytes() {
        return store.payloadBytes();
    }

    /**
     * Sets the training step that random layers draw their masks for (0 until set). Masks are a pure
     * function of (seed, step, layer, element), so every recomputation within a step replays them.
     */
    public void setStep(long step) {
        guard.enter("setStep");
        this.step = step;
        guard.exit();
    }

    /** Sets (or clears, with null) the listener of the next runs. */
    public void setListener(ExecutionListener listener) {
        guard.enter("setListener");
        this.listener = listener;
        guard.exit();
    }

    /** Answers the backward recomputations (residual branches) of the last call, without allocating. */
    public long lastBackwardRecomputations() {
        return ctx.recomputations;
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
     * @throws NonFiniteException       if the loss or a gradient element is NaN or infinite
     */
    public double gradient(Batch data, Loss loss, Gradients out) {
        guard.enter("gradient");
        try {
            CallChecks.gradientCall(net, batch, data, loss, out);
            return NonFiniteCheck.check(net, data, loss, run(data, loss, out, null, null, null), out, null, this);
        } finally {
            guard.exit();
        }
    }

    /**
     * Computes, in one forward R-pass and one backward R-pass under this executor's plan, the product
     * C&middot;v of the mean loss's curvature C (the Hessian H or the Gauss-Newton matrix G, see
     * {@link Curvature}) with a direction v over all parameters, together with the loss and its
     * gradient, which come free in the same passes. Forward evaluations and live states are counted
     * as for a gradient, live bytes twice. The loss and the gradient are bit-identical to
     * {@link #gradient}'s; the product is bit-identical for every plan, thread count and kernel path.
     * Random layers use the masks of the current {@link #setStep step}, held fixed. Allocates nothing.
     *
     * @param v           the direction, shaped like the parameters. Not modified.
     * @param outGradient receives &part;L/&part;&theta; (overwritten), or null to skip the gradient's
     *                    parameter products (the gradient flowing backward is needed anyway)
     * @param outProduct  receives C&middot;v, shaped like the parameters. Modified (overwritten).
     * @return the loss value
     * @throws IllegalStateException    if the executor was not built by {@link #forHessianProducts}
     * @throws IllegalArgumentException on a shape or target mismatch, or if {@code outProduct} or
     *                                  {@code outGradient} shares an array with {@code v} or with each other
     */
    public double hessianVector(Batch data, Loss loss, Gradients v, Gradients outGradient, Gradients outProduct,
                                Curvature curvature) {
        guard.enter("hessianVector");
        try {
            if (!curvatureMode) {
                throw new IllegalStateException("this executor has no R buffers: build it with Executor.forHessianProducts"
                        + " to compute Hessian-vector products");
            }
            Objects.requireNonNull(curvature, "curvature");
            CallChecks.curvatureCall(net, batch, data, loss, v, outGradient, outProduct);
            return NonFiniteCheck.check(net, data, loss, run(data, loss, outGradient, curvature, v, outProduct),
                    outGradient, outProduct, this);
        } finally {
            guard.exit();
        }
    }

    /**
     * Inference: runs layers 1..L on {@code data}'s inputs and writes a<sup>L</sup> row-major
     * {@code [N, n_L]} into {@code out}. Random layers are the identity. Needs no plan: the two
     * gradient-flow buffers serve as ping-pong states. Allocates nothing.
     *
     * @param out at least {@code N * n_L} floats. Modified.
     * @throws IllegalArgumentException on a shape mismatch
     */
    public void predict(Batch data, float[] out) {
        guard.enter("predict");
        try {
            if (data.size() > batch || data.inputWidth() != net.inputWidth()) {
                throw new IllegalArgumentException("batch [" + data.size() + ", " + data.inputWidth()
                        + "] does not fit this executor (at most " + batch + " rows of width " + net.inputWidth() + ")");
            }
            if (out.length < (long) data.size() * net.outputWidth()) {
                throw new IllegalArgumentException("out holds " + out.length + " floats, needs "
                        + (long) data.size() * net.outputWidth());
            }
            final float[] last = inference(data, depth, -1);
            DenseKernels.transpose(net.outputWidth(), data.size(), last, out);
        } finally {
            guard.exit();
        }
    }

    /**
     * Runs layers 1..{@code upTo} in inference mode over the flow buffers; answers the last output,
     * or, with {@code checkFinite} &ge; 0, stops at the first layer whose output has a non-finite
     * element and answers null with that layer in {@link #firstBad}.
     */
    private float[] inference(Batch data, int upTo, int checkFinite) {
        final int n = data.size();
        DenseKernels.transpose(n, net.inputWidth(), data.inputs(), space.input);
        float[] in = space.input;
        float[] cur = space.flow;
        float[] other = space.flowNext;
        for (int l = 1; l <= upTo; l++) {
            final Layer layer = net.layer(l);
            setCommon(ctx, l, n, false);
            ctx.input = in;
            ctx.output = cur;
            layer.forward(ctx);
            if (checkFinite >= 0 && !finite(cur, layer.outputWidth() * n)) {
                firstBad = l;
                return null;
            }
            in = cur;
            final float[] t = cur;
            cur = other;
            other = t;
        }
        return in;
    }

    private int firstBad;

    /** Answers the first layer whose output is not finite in an inference pass on {@code data}, or 0. */
    int firstNonFiniteLayer(Batch data) {
        guard.enter("firstNonFiniteLayer");
        try {
            return firstNonFiniteStateUnguarded(data);
        } finally {
            guard.exit();
        }
    }

    /** On a non-finite result only (it may then overwrite the flow buffers): the first layer whose inference output is not finite, or 0. */
    int firstNonFiniteStateUnguarded(Batch data) {
        firstBad = 0;
        inference(data, depth, 0);
        return firstBad;
    }

    private static boolean finite(float[] a, int len) {
        float acc = 0f;
        for (int j = 0; j < len; j++) {
            acc += a[j] - a[j];
        }
        return acc == 0f;
    }

    /**
     * The interpreter: runs the plan's actions in order. {@code curvature} non-null makes it the
     * curvature pass (tangent methods, R-twins); {@code out} is null only in a curvature pass that skips the gradient.
     */
    private double run(Batch data, Loss loss, Gradients out, Curvature curvature, Gradients v, Gradients product) {
        resetCounters();
        final int n = data.size();
        final boolean r = curvature != null;
        DenseKernels.transpose(n, net.inputWidth(), data.inputs(), space.input);
        int position = -1;
        boolean headDone = false;
        // One clock read per action (~20 ns against the tens of microseconds of a layer).
        long clock = System.nanoTime();
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    forward(i, l, n, curvature, v);
                    final long now = System.nanoTime();
                    forwardNanos += now - clock;
                    clock = now;
                }
                case DROP -> store.release(l, n, r);
                case WRITE -> store.write(i, l, n, r);
                case READ -> store.read(i, l, n, r);
                case DISCARD -> store.discard(l, n, r);
                case LOSS -> {
                    store.requireLive(depth, i);
                    lastLoss = loss.lossAndGradient(store.holder[depth], net.outputWidth(), data, space.flow);
                    if (r) {
                        LossCurvature.rGradient(loss, store.holder[depth], store.rHolder[depth], net.outputWidth(), data,
                                space.rFlow);
                    }
                    position = depth;
                    final long now = System.nanoTime();
                    lossNanos += now - clock;
                    clock = now;
                }
                case BACKWARD -> {
                    if (l != position) {
                        throw new IllegalStateException("action #" + i + ": backward through layer " + l
                                + " but the backward pass is at layer " + position);
                    }
                    store.requireLive(l, i);
                    if (l > 1) {
                        store.requireLive(l - 1, i);
                    }
                    store.beforeBackward(l);
                    headDone = backward(l, data, out, curvature, v, product, headDone);
                    position = l - 1;
                    final long now = System.nanoTime();
                    backwardNanos += now - clock;
                    clock = now;
                }
            }
            if (listener != null && listener.wantsAction(i)) {
                listener.afterAction(i, store.live());
            }
        }
        store.finishRun();
        if (position != 0 || store.liveStates != 0 || store.copiesHeld()) {
            throw new IllegalStateException("plan " + plan.name() + " ended with the backward pass at layer "
                    + position + ", " + store.liveStates + " states live" + (store.copiesHeld() ? " and tier copies held" : ""));
        }
        ran = true;
        return lastLoss;
    }

    private void setCommon(Context c, int l, int n, boolean training) {
        c.clear();
        c.layer = net.layer(l);
        c.l = l;
        c.n = n;
        c.step = step;
        c.training = training;
        c.scratch = space.scratchOf[l];
        c.listener = listener;
    }

    private void forward(int action, int l, int n, Curvature curvature, Gradients v) {
        final int b = store.take(action, l, n, curvature != null);
        final Layer layer = net.layer(l);
        setCommon(ctx, l, n, true);
        ctx.input = l == 1 ? space.input : store.holder[l - 1];
        ctx.output = store.holder[l];
        if (curvature == null) {
            layer.forward(ctx);
        } else {
            ctx.curvature = curvature;
            ctx.rInput = l == 1 ? null : store.rHolder[l - 1];
            ctx.rOutput = store.rHolder[l];
            ctx.directionWeights = v.weights(l);
            ctx.directionBias = v.bias(l);
            layer.forwardWithTangent(ctx);
        }
    }

    /** B l; answers whether it also ran the gradient head of layer l-1 on every row. */
    private boolean backward(int l, Batch data, Gradients out, Curvature curvature, Gradients v, Gradients product,
                             boolean headDone) {
        final Layer layer = net.layer(l);
        final int n = data.size();
        setCommon(ctx, l, n, true);
        ctx.input = l == 1 ? space.input : store.holder[l - 1];
        ctx.inputBySamples = l == 1 ? data.inputs() : null;
        ctx.output = store.holder[l];
        ctx.gradOutput = space.flow;
        ctx.gradInput = l > 1 ? space.flowNext : null;
        if (out != null) {
            ctx.weightGradient = out.weights(l);
            ctx.biasGradient = out.bias(l);
        }
        ctx.headDone = headDone;
        boolean fused = false;
        if (curvature == null) {
            // The layer below's element-wise start runs on each range of rows as soon as it is final.
            final Layer below = l > 1 ? net.layer(l - 1) : null;
            if (below != null && layer.finishesInputRows() && below.hasGradientHead()) {
                setCommon(belowCtx, l - 1, n, true);
                belowCtx.output = store.holder[l - 1];
                belowCtx.gradOutput = space.flowNext;
                belowCtx.biasGradient = out.bias(l - 1);
                ctx.below = belowCtx;
                fused = true;
            }
            layer.backward(ctx);
        } else {
            ctx.curvature = curvature;
            ctx.rInput = l == 1 ? null : store.rHolder[l - 1];
            ctx.rOutput = store.rHolder[l];
            ctx.rGradOutput = space.rFlow;
            ctx.rGradInput = l > 1 ? space.rFlowNext : null;
            ctx.directionWeights = v.weights(l);
            ctx.directionBias = v.bias(l);
            ctx.productWeights = product.weights(l);
            ctx.productBias = product.bias(l);
            layer.backwardWithTangent(ctx);
        }
        if (l > 1) {
            space.swapFlows(curvature != null);
        }
        return fused;
    }

    private void resetCounters() {
        store.reset();
        ctx.recomputations = 0;
        forwardNanos = 0;
        lossNanos = 0;
        backwardNanos = 0;
        ran = false;
    }

    /**
     * Answers what the last {@link #gradient} or {@link #hessianVector} call counted.
     *
     * @throws IllegalStateException before the first call
     */
    public RunStats lastRun() {
        if (!ran) {
            throw new IllegalStateException("no gradient has been computed yet");
        }
        final Tier[] tiers = Tier.values();
        final long[] written = new long[tiers.length];
        final long[] read = new long[tiers.length];
        long wait = 0;
        long busy = 0;
        final dev.checkprop.tier.TierStorage t = store.tiers();
        if (t != null) {
            for (Tier tier : tiers) {
                written[tier.ordinal()] = t.io().bytesWritten(tier);
                read[tier.ordinal()] = t.io().bytesRead(tier);
            }
            wait = t.io().waitNanos();
            busy = t.io().busyNanos();
        }
        return new RunStats(lastLoss, store.forwardEvaluations, store.peakLiveStates, store.peakBytes, store.evaluations.clone(),
                ctx.recomputations, forwardNanos, lossNanos, backwardNanos, written, read, store.peakCopies.clone(),
                store.peakCopyBytes.clone(), wait, busy);
    }

    /** Wall-clock nanoseconds the last call spent in forward actions (each including its hand-off to the threads), without allocating. */
    public long lastForwardNanos() {
        return forwardNanos;
    }

    /** Wall-clock nanoseconds the last call spent in backward actions. */
    public long lastBackwardNanos() {
        return backwardNanos;
    }

    /** Answers the forward evaluations of the last call, without allocating. */
    public long lastForwardEvaluations() {
        return store.forwardEvaluations;
    }

    /** Answers the peak state bytes (payload) of the last call, without allocating. */
    public long lastPeakActivationBytes() {
        return store.peakBytes;
    }
}
