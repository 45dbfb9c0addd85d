package dev.checkprop.exec;

import dev.checkprop.hvp.ActivationCurvature;
import dev.checkprop.hvp.Curvature;
import dev.checkprop.hvp.LossCurvature;
import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs a {@link Plan} on a {@link Network}: the only code in checkprop that runs layers. Every plan,
 * full storage included, goes through the same loop, the same kernels and the same buffer pool, so a
 * comparison between plans compares only their recomputation.
 *
 * <p>Order of use: construct once per (network, plan, batch size) — this sizes every buffer — then
 * call {@link #gradient} once per step. The executor holds no reference to a batch between calls.
 * It is not thread-safe: use one executor per thread. A call from a second thread while one is in
 * progress fails at once with a {@link java.util.ConcurrentModificationException} and changes nothing
 * ({@link ConfinementGuard}). A loss, gradient or product that is not finite is a
 * {@link NonFiniteException} naming the first layer concerned.
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
 *
 * <h2>NOTE [Hessian-vector products]</h2>
 * An executor built by {@link #forHessianProducts} also computes curvature-vector products
 * ({@link #hessianVector}) with Pearlmutter's R-operator, R{x} = d/dr x(&theta; + r v) at r = 0, in one
 * forward R-pass and one backward R-pass under the same plan. Every pool buffer then has a twin of
 * the same size holding R{a<sup>l</sup>}: {@code F l} computes the pair (a<sup>l</sup>, R{a<sup>l</sup>}),
 * {@code D l} frees both, and the pair is the whole tape of the layer (f' and f''/f' are recovered
 * from a<sup>l</sup>, see {@link ActivationCurvature}). A state therefore costs twice the bytes of
 * an activation in this mode; plan budgets with {@link dev.checkprop.hvp.HvpMemory#chain}. The twins
 * and the extra scratch are allocated only in this mode, and a plain {@link #gradient} call skips
 * every R computation, so the gradient path neither grows nor slows. With V, v<sub>b</sub> the
 * direction's parts for layer l, g = &part;L/&part;a<sup>l</sup> and &delta; = g &odot; f'(z):
 * <pre>
 * forward   R{z} = (V a^(l-1) + v_b) + W R{a^(l-1)}            (R{a^0} = 0: the second product is skipped)
 *           R{a} = f'(z) &odot; R{z}                              dense
 *           R{a} = f'(z) &odot; R{z} + R{a^(l-1)}                 residual
 *           R{a} = R{a^(l-1)} &odot; m                            dropout
 * loss      R{g^L} = H_loss R{a^L}                                ({@link LossCurvature})
 * backward  R{&delta;} = R{g} &odot; f'(z) + g &odot; (f''/f')(a) &odot; R{a}       H; G keeps the first term
 *           (Cv)_W = R{&delta;} a^(l-1)T + &delta; R{a^(l-1)}T                 H; G keeps the first term
 *           (Cv)_b = &Sigma;_i R{&delta;}
 *           R{g^(l-1)} = W^T R{&delta;} + V^T &delta; (+ R{g}, residual)     H; G drops V^T &delta;
 * </pre>
 * For a residual block the branch h = f(z) and R{h} = f'(z) &odot; R{z} are recomputed in the backward
 * pass from (a<sup>l-1</sup>, R{a<sup>l-1</sup>}) by the same operations as the forward, never from
 * a<sup>l</sup> &minus; a<sup>l-1</sup>. Each sum of two products is rounded once per product and once
 * for the addition, in the order written, and every product is one kernel call under the bit contract
 * with the same thread split as the gradient's, so products are bit-identical for every plan, thread
 * count and kernel path, as gradients are.
 */
public final class Executor implements AutoCloseable {

    private final Network net;
    private final Plan plan;
    private final int batch;
    /** Samples in the batch being run (at most {@link #batch}): the stride of every unit-major buffer. */
    private int n;
    private final DenseKernels kernels;
    private final int depth;
    /** One thread at a time (see {@link ConfinementGuard}). */
    private final ConfinementGuard guard = new ConfinementGuard();

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

    /**
     * Hessian mode only (all null otherwise): the R{a} twin of every pool buffer, R{a<sup>l</sup>} of each
     * live layer, and constant scratch (see {@link #workspace()}).
     */
    private final float[][][] rPools;
    private final float[][] rHolder;
    private float[] rDelta;
    private float[] rDeltaNext;
    private final float[] rScratch;
    private final float[] rRowScratch;
    private final float[] rBranch;
    private final float[] rBranchGradient;
    private final float[] weightScratch;
    private final float[] zeroBias;
    /** During a {@link #hessianVector} call: the curvature, the direction and the product; null otherwise. */
    private Curvature curvature;
    private Gradients direction;
    private Gradients product;

    private final WorkerPool workers;
    /**
     * True when the gradient in {@link #delta} for the next layer down already has f' applied and its
     * bias gradient written: the previous backward job did both for each chunk of rows right after
     * computing it, while the rows were still in cache.
     */
    private boolean gradientReady;
    /**
     * Threads take the chunks of a job (ranges of rows or samples) from this counter as they become
     * free, so a thread slowed by a cache miss or the OS does not hold the other back. Which thread
     * computes an element never changes its chain of operations, so the bits do not depend on it.
     */
    private final AtomicInteger nextChunk = new AtomicInteger();
    /** Rows per chunk: a multiple of both register tiles' heights (8 and 6); all rows with one thread. */
    private final int rowChunk;
    /** Samples per chunk of a transpose. */
    private final int sampleChunk;
    private final ForwardJob forwardJob = new ForwardJob();
    private final BackwardJob backwardJob = new BackwardJob();
    private final int[] evaluations;
    private long forwardEvaluations;
    private int liveBuffers;
    private int peakLiveBuffers;
    private long liveBytes;
    private long peakBytes;
    private long forwardNanos;
    private long lossNanos;
    private long backwardNanos;
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
     * (the caller plus {@code threads - 1} daemon workers, released by {@link #close()}). Threads take
     * chunks of output rows of each product as they become free (each then reads only those rows
     * of W); every output element is still computed by one thread with one fixed chain of
     * operations, so gradients are bit-identical for every thread count.
     */
    public Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads) {
        this(net, plan, batchSize, kernels, threads, false);
    }

    /**
     * Answers an executor that also computes Hessian- and Gauss-Newton-vector products
     * ({@link #hessianVector}), as {@link #Executor(Network, Plan, int, DenseKernels, int)} otherwise.
     * It allocates, besides the plain executor's buffers, an R{a} twin of every activation buffer (so
     * the plan's activation memory doubles: budget it with {@link dev.checkprop.hvp.HvpMemory#chain}),
     * two R{&part;L/&part;a} buffers, two scratch buffers of the widest layer for R products and the
     * transposed R{a<sup>l-1</sup>}, a weight-sized scratch of the largest layer, and for residual
     * networks two more for the recomputed R{h} and its gradient. {@link #gradient} still works
     * and gives the same bits as on a plain executor.
     */
    public static Executor forHessianProducts(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads) {
        return new Executor(net, plan, batchSize, kernels, threads, true);
    }

    private Executor(Network net, Plan plan, int batchSize, DenseKernels kernels, int threads, boolean hessian) {
        if (plan.layers() != net.depth()) {
            throw new IllegalArgumentException("plan " + plan.name() + " is for " + plan.layers()
                    + " layers but the network has " + net.depth());
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        // Before this executor allocates anything, so that the warm-up's buffers are garbage by then.
        WarmUp.compile(net, batchSize, kernels, threads);
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
        if (hessian) {
            rPools = new float[distinct.length][][];
            for (int c = 0; c < distinct.length; c++) {
                rPools[c] = new float[need[c]][];
                for (int j = 0; j < need[c]; j++) {
                    rPools[c][j] = new float[pools[c][j].length];
                }
            }
            rHolder = new float[depth + 1][];
            rDelta = new float[delta.length];
            rDeltaNext = new float[delta.length];
            rScratch = new float[delta.length];
            rRowScratch = new float[rowScratch.length];
            rBranch = residual ? new float[delta.length] : null;
            rBranchGradient = residual ? new float[delta.length] : null;
            int maxWeights = 0;
            for (DenseLayer d : net.layers()) {
                maxWeights = Math.max(maxWeights, d.weights().length);
            }
            weightScratch = new float[maxWeights];
            zeroBias = new float[maxOut];
        } else {
            rPools = null;
            rHolder = null;
            rScratch = null;
            rRowScratch = null;
            rBranch = null;
            rBranchGradient = null;
            weightScratch = null;
            zeroBias = null;
        }
        workers = new WorkerPool(threads, "checkprop-executor");
        rowChunk = rowChunk(threads, Math.max(maxOut, maxIn), batchSize, kernels.rowGrain(batchSize));
        sampleChunk = threads == 1 ? 1 << 24 : 16;
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
     * A narrow layer is cut tile by tile: 64 rows are 8 chunks of 8, 4 per thread, where chunks of
     * 24 gave one thread 40 rows and the other 24.
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
        return workers.threads();
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
        } finally {
            guard.exit();
        }
    }

    /** Answers the kernels in use. */
    public DenseKernels kernels() {
        return kernels;
    }

    /** Whether this executor was built by {@link #forHessianProducts} and can run {@link #hessianVector}. */
    public boolean hessianProducts() {
        return rPools != null;
    }

    /**
     * Answers every activation buffer of the pools (the arrays themselves, for memory accounting),
     * and in Hessian mode their R{a} twins after them.
     */
    public java.util.List<float[]> activationPool() {
        java.util.List<float[]> all = new java.util.ArrayList<>();
        for (float[][] pool : pools) {
            all.addAll(Arrays.asList(pool));
        }
        if (rPools != null) {
            for (float[][] pool : rPools) {
                all.addAll(Arrays.asList(pool));
            }
        }
        return all;
    }

    /**
     * Answers the constant scratch arrays: the input transposed, the sample-major copy of a<sup>l-1</sup>
     * and the two buffers of the gradient flowing backward (and a residual branch's two); in Hessian
     * mode also the R scratch listed at {@link #forHessianProducts}.
     */
    public java.util.List<float[]> workspace() {
        java.util.List<float[]> all = new java.util.ArrayList<>(java.util.List.of(inputUnitMajor, rowScratch, delta, deltaNext));
        if (branchScratch != null) {
            all.add(branchScratch);
            all.add(branchGradient);
        }
        if (rPools != null) {
            all.addAll(java.util.List.of(rDelta, rDeltaNext, rScratch, rRowScratch, weightScratch, zeroBias));
            if (rBranch != null) {
                all.add(rBranch);
                all.add(rBranchGradient);
            }
        }
        return java.util.List.copyOf(all);
    }

    /**
     * Answers the bytes of activation payload the pools hold: what this plan costs, whatever is live
     * (twice the plain figure in Hessian mode, the R{a} twins included).
     */
    public long poolPayloadBytes() {
        long b = 0;
        for (float[][] pool : pools) {
            for (float[] buf : pool) {
                b += 4L * buf.length;
            }
        }
        return rPools == null ? b : 2 * b;
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
        guard.enter("predict");
        try {
            predictConfined(data, out);
        } finally {
            guard.exit();
        }
    }

    private void predictConfined(Batch data, float[] out) {
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
            runJob(forwardJob);
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
        guard.enter("setStep");
        this.step = step;
        guard.exit();
    }

    /** Sets (or clears, with null) an observer of each layer's output during the backward pass. */
    public void setObserver(BackwardObserver observer) {
        guard.enter("setObserver");
        this.observer = observer;
        guard.exit();
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
        guard.enter("gradient");
        try {
            checkShapes(data, loss, out);
            return NonFiniteCheck.check(net, data, loss, run(data, loss, out, probeAction, probe), out, null);
        } finally {
            guard.exit();
        }
    }

    /**
     * Computes, in one forward R-pass and one backward R-pass under this executor's plan, the product
     * C&middot;v of the mean loss's curvature C (the Hessian H or the Gauss-Newton matrix G, see
     * {@link Curvature}) with a direction v over all parameters, together with the loss and its
     * gradient, which come free in the same passes. The plan runs as for {@link #gradient}, with every
     * state a pair (a<sup>l</sup>, R{a<sup>l</sup>}), so forward evaluations and live buffers are
     * counted as for a gradient, and live bytes twice (see the class notes). The loss and the
     * gradient are bit-identical to {@link #gradient}'s; the product is bit-identical for every plan,
     * thread count and kernel path. Dropout layers use the masks of the current {@link #setStep step},
     * held fixed (C is the curvature of the loss with that mask). Allocates nothing.
     *
     * @param data        a batch of at most {@link #batchSize()} samples. Not modified.
     * @param loss        the loss
     * @param v           the direction, shaped like the parameters (V<sup>l</sup> like W<sup>l</sup>,
     *                    v<sub>b</sub><sup>l</sup> like b<sup>l</sup>). Not modified.
     * @param outGradient receives &part;L/&part;&theta; (overwritten), or null to skip the gradient's
     *                    weight and bias products (the gradient flowing backward is needed anyway)
     * @param outProduct  receives C&middot;v, shaped like the parameters. Modified (overwritten).
     * @param curvature   {@link Curvature#HESSIAN} or {@link Curvature#GAUSS_NEWTON}
     * @return the loss value
     * @throws IllegalStateException    if the executor was not built by {@link #forHessianProducts}
     * @throws IllegalArgumentException on a shape or target mismatch, or if {@code outProduct} or
     *                                  {@code outGradient} shares an array with {@code v} or with each other
     *                                  (before any layer runs)
     */
    public double hessianVector(Batch data, Loss loss, Gradients v, Gradients outGradient, Gradients outProduct,
                                Curvature curvature) {
        guard.enter("hessianVector");
        try {
            return hessianVectorConfined(data, loss, v, outGradient, outProduct, curvature);
        } finally {
            guard.exit();
        }
    }

    private double hessianVectorConfined(Batch data, Loss loss, Gradients v, Gradients outGradient, Gradients outProduct,
                                         Curvature curvature) {
        if (rPools == null) {
            throw new IllegalStateException("this executor has no R buffers: build it with Executor.forHessianProducts"
                    + " to compute Hessian-vector products");
        }
        java.util.Objects.requireNonNull(curvature, "curvature");
        checkShaped("the product", outProduct);
        checkShapes(data, loss, outProduct);
        checkShaped("the direction v", v);
        if (outGradient != null) {
            checkShaped("the gradient", outGradient);
        }
        for (int l = 1; l <= depth; l++) {
            if (net.layer(l).hasParameters() && (shares(v, outProduct, l) || (outGradient != null
                    && (shares(v, outGradient, l) || shares(outGradient, outProduct, l))))) {
                throw new IllegalArgumentException("the direction v, the gradient and the product must be distinct arrays"
                        + " (layer " + l + " shares one)");
            }
        }
        this.curvature = curvature;
        this.direction = v;
        this.product = outProduct;
        try {
            return NonFiniteCheck.check(net, data, loss, run(data, loss, outGradient, -1, null), outGradient, outProduct);
        } finally {
            this.curvature = null;
            this.direction = null;
            this.product = null;
        }
    }

    private static boolean shares(Gradients a, Gradients b, int l) {
        return a.weights(l) == b.weights(l) || a.bias(l) == b.bias(l);
    }

    private void checkShaped(String what, Gradients g) {
        if (g.depth() != depth) {
            throw new IllegalArgumentException(what + " is for " + g.depth() + " layers, the network has " + depth);
        }
        for (int l = 1; l <= depth; l++) {
            if (g.weights(l).length != net.layer(l).weights().length || g.bias(l).length != net.layer(l).bias().length) {
                throw new IllegalArgumentException(what + ": layer " + l + " is not shaped like its parameters");
            }
        }
    }

    /** Runs the plan; {@link #curvature} non-null adds the R-passes. {@code out} is null only in an R run. */
    private double run(Batch data, Loss loss, Gradients out, int probeAction, PeakProbe probe) {
        resetCounters();
        n = data.size();
        final int n = this.n;
        DenseKernels.transpose(n, net.inputWidth(), data.inputs(), inputUnitMajor);
        int position = -1;
        // One clock read per action (~20 ns against the tens of microseconds of a layer).
        long clock = System.nanoTime();
        for (int i = 0; i < plan.size(); i++) {
            final int l = plan.layer(i);
            switch (plan.op(i)) {
                case FORWARD -> {
                    forward(l);
                    final long now = System.nanoTime();
                    forwardNanos += now - clock;
                    clock = now;
                }
                case DROP -> release(l);
                case LOSS -> {
                    requireLive(depth, i);
                    lastLoss = loss.lossAndGradient(holder[depth], net.outputWidth(), data, delta);
                    if (curvature != null) {
                        LossCurvature.rGradient(loss, holder[depth], rHolder[depth], net.outputWidth(), data, rDelta);
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
                    requireLive(l, i);
                    if (l > 1) {
                        requireLive(l - 1, i);
                    }
                    backward(l, data, out);
                    position = l - 1;
                    final long now = System.nanoTime();
                    backwardNanos += now - clock;
                    clock = now;
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
                backwardRecomputations, forwardNanos, lossNanos, backwardNanos);
    }

    /**
     * Wall-clock nanoseconds the last {@link #gradient} call spent in forward actions (F l, each
     * including its hand-off to the threads), without allocating. With {@link #lastBackwardNanos()}
     * it splits a step's time by phase, which is how a plan's measured cost is compared with the cost
     * its evaluation count predicts.
     */
    public long lastForwardNanos() {
        return forwardNanos;
    }

    /** Wall-clock nanoseconds the last {@link #gradient} call spent in backward actions (B l). */
    public long lastBackwardNanos() {
        return backwardNanos;
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
        forwardNanos = 0;
        lossNanos = 0;
        backwardNanos = 0;
        gradientReady = false;
        ran = false;
        for (int c = 0; c < pools.length; c++) {
            freeTop[c] = pools[c].length;
            for (int j = 0; j < pools[c].length; j++) {
                freeStacks[c][j] = j;
            }
        }
        Arrays.fill(holder, null);
        if (rHolder != null) {
            Arrays.fill(rHolder, null);
        }
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
        if (curvature != null) {
            // R{a^0} = 0: no buffer, the job skips the terms that would multiply it.
            forwardJob.setR(l == 1 ? null : rHolder[l - 1], rPools[c][idx]);
            rHolder[l] = rPools[c][idx];
        }
        runJob(forwardJob);
        holder[l] = outBuf;
        holderIndex[l] = idx;
        evaluations[l]++;
        forwardEvaluations++;
        liveBuffers++;
        liveBytes += stateBytes(l);
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
        if (rHolder != null) {
            rHolder[l] = null;
        }
        liveBuffers--;
        liveBytes -= stateBytes(l);
    }

    /** Payload bytes of the state of layer l in the current run: a<sup>l</sup>, and R{a<sup>l</sup>} in an R run. */
    private long stateBytes(int l) {
        return (curvature == null ? 4L : 8L) * net.width(l) * n;
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
                if (!gradientReady) {
                    backwardJob.phase = BackwardJob.ROWS;
                    runJob(backwardJob);
                }
                backwardJob.phase = BackwardJob.PRODUCTS;
                runJob(backwardJob);
            }
            case RESIDUAL -> {
                backwardJob.phase = BackwardJob.BRANCH;
                runJob(backwardJob);
                backwardRecomputations++;
                if (observer != null) {
                    observer.beforeBackward(l, branchScratch, n);
                }
                backwardJob.phase = BackwardJob.ROWS;
                runJob(backwardJob);
                backwardJob.phase = BackwardJob.PRODUCTS;
                runJob(backwardJob);
            }
            case DROPOUT -> {
                backwardJob.phase = BackwardJob.DROPOUT;
                runJob(backwardJob);
            }
        }
        gradientReady = backwardJob.fuseBelow;
        if (l > 1) {
            final float[] t = delta;
            delta = deltaNext;
            deltaNext = t;
            if (curvature != null) {
                final float[] r = rDelta;
                rDelta = rDeltaNext;
                rDeltaNext = r;
            }
        }
    }

    /** Runs one job on all threads, its chunks handed out afresh. */
    private void runJob(WorkerPool.Job job) {
        nextChunk.set(0);
        workers.run(job);
    }

    /** How many chunks of {@code size} cover [0, extent). */
    private static int chunks(int extent, int size) {
        return (extent + size - 1) / size;
    }

    /**
     * R{z} = (V a + v<sub>b</sub>) + W R{a} into {@code rz} for output rows o0..o1: two kernel calls and
     * one rounded addition per element, in that order; the second product is skipped when
     * {@code rIn} is null (R{a<sup>0</sup>} = 0). Uses {@link #rScratch} for the second product.
     */
    private void rPreActivation(DenseLayer d, int l, float[] in, float[] rIn, float[] rz, int o0, int o1) {
        final int nOut = d.outputWidth();
        final int nIn = d.inputWidth();
        kernels.forward(nOut, nIn, n, direction.weights(l), direction.bias(l), in, rz, o0, o1, 0, n);
        if (rIn != null) {
            kernels.forward(nOut, nIn, n, d.weights(), zeroBias, rIn, rScratch, o0, o1, 0, n);
            addRange(rz, rScratch, o0 * n, o1 * n);
        }
    }

    /** {@code dst[j] += src[j]} for {@code j0 <= j < j1}. */
    private static void addRange(float[] dst, float[] src, int j0, int j1) {
        for (int j = j0; j < j1; j++) {
            dst[j] += src[j];
        }
    }

    /** F l: z = W a + b and a = f(z), by chunks of output rows; in an R run also R{a}. */
    private final class ForwardJob implements WorkerPool.Job {
        private DenseLayer layer;
        private int layerIndex;
        private float[] in;
        private float[] out;
        /** R{a<sup>l-1</sup>} (null for l = 1) and R{a<sup>l</sup>}; {@code rOut} null outside an R run. */
        private float[] rIn;
        private float[] rOut;

        void set(DenseLayer d, int l, float[] input, float[] output) {
            layer = d;
            layerIndex = l;
            in = input;
            out = output;
            rIn = null;
            rOut = null;
        }

        void setR(float[] rInput, float[] rOutput) {
            rIn = rInput;
            rOut = rOutput;
        }

        @Override
        public void run() {
            final int nOut = layer.outputWidth();
            final int rowChunks = chunks(nOut, rowChunk);
            for (int c; (c = nextChunk.getAndIncrement()) < rowChunks; ) {
                rows(c * rowChunk, Math.min(nOut, (c + 1) * rowChunk));
            }
        }

        /** Output rows o0..o1, every sample: [o0*n, o1*n) is one contiguous range of each buffer. */
        private void rows(int o0, int o1) {
            final int nOut = layer.outputWidth();
            final int j0 = o0 * n;
            final int j1 = o1 * n;
            if (layer.kind() == DenseLayer.Kind.DROPOUT) {
                dropout(layer, layerIndex, in, out, o0, o1);
                if (rOut != null) {
                    if (rIn == null) {
                        Arrays.fill(rOut, j0, j1, 0f);
                    } else {
                        dropout(layer, layerIndex, rIn, rOut, o0, o1);
                    }
                }
                return;
            }
            kernels.forward(nOut, layer.inputWidth(), n, layer.weights(), layer.bias(), in, out, o0, o1, 0, n);
            if (rOut != null) {
                rPreActivation(layer, layerIndex, in, rIn, rOut, o0, o1);
            }
            layer.activation().applyInPlace(kernels, out, j0, j1);
            if (rOut != null) {
                // R{f(z)} = f'(z) R{z}, f' from the output f(z) (before a residual's skip is added).
                layer.activation().backwardInPlace(kernels, out, rOut, j0, j1);
            }
            if (layer.kind() == DenseLayer.Kind.RESIDUAL) {
                addRange(out, in, j0, j1);
                if (rOut != null && rIn != null) {
                    addRange(rOut, rIn, j0, j1);
                }
            }
        }
    }

    /**
     * Multiplies {@code src} by layer {@code l}'s dropout mask into {@code dst}, for units u0..u1 and
     * every sample. The mask element of (sample i, unit u) is indexed i&middot;width + u, independent of
     * the batch stride and the thread split.
     */
    private void dropout(DenseLayer d, int l, float[] src, float[] dst, int u0, int u1) {
        final int width = d.outputWidth();
        final int n = this.n;
        for (int u = u0; u < u1; u++) {
            final int base = u * n;
            for (int i = 0; i < n; i++) {
                dst[base + i] = src[base + i] * d.dropoutScale(step, l, (long) i * width + u);
            }
        }
    }

    /**
     * B l in phases, each a job whose chunks (ranges of rows, or of samples for a transpose) the
     * threads take from {@link #nextChunk}:
     * <ul>
     * <li>{@link #BRANCH} (residual only, by output rows): recompute h = f(W a^(l-1) + b) — f' cannot
     *     be recovered accurately from a^l &minus; a^(l-1) — and the branch gradient g &odot; f'(h); in an
     *     R run also R{h} = f'(z) R{z} and R{&delta;};</li>
     * <li>{@link #ROWS} (by output rows), skipped when the layer above already did it
     *     ({@link #gradientReady}): for a dense layer, R{&delta;} (in an R run, while g is still intact)
     *     and f' applied to the incoming gradient; the bias gradient (and R{&delta;}'s sum);</li>
     * <li>{@link #PRODUCTS}: first the sample-major copies of a^(l-1) (and R{a^(l-1)}), then the
     *     gradient for a^(l-1) (and its R) by input rows, plus the skip connection's identity term for
     *     a residual block, and — in a plain gradient run whose layer below is dense — that layer's f'
     *     and bias gradient on the same rows while they are in cache; last the weight gradient (and
     *     the product's weight part) by output rows, once the copies are done;</li>
     * <li>{@link #DROPOUT} (by rows): the gradient (and its R) through the replayed mask.</li>
     * </ul>
     * So a dense layer's backward is one job in a plain gradient run. Every element is still
     * computed by one chain of operations in the documented order, so fusing and chunking change
     * no bits.
     */
    private final class BackwardJob implements WorkerPool.Job {
        static final int ROWS = 0;
        static final int PRODUCTS = 1;
        static final int BRANCH = 2;
        static final int DROPOUT = 3;

        private int l;
        private Batch data;
        /** The gradient's output, null in an R run that skips it. */
        private Gradients out;
        int phase;

        void set(int layerIndex, Batch batchData, Gradients gradients) {
            l = layerIndex;
            data = batchData;
            out = gradients;
            d = net.layer(l);
            nOut = d.outputWidth();
            nIn = d.inputWidth();
            residual = d.kind() == DenseLayer.Kind.RESIDUAL;
            r = curvature != null;
            // The full Hessian's extra terms; Gauss-Newton drops them (see the class notes).
            second = curvature == Curvature.HESSIAN;
            // The gradient with respect to z: in place in delta for a dense layer, beside it for a residual one.
            g = residual ? branchGradient : delta;
            rg = residual ? rBranchGradient : rDelta;
            in = l == 1 ? inputUnitMajor : holder[l - 1];
            rIn = !r || l == 1 ? null : rHolder[l - 1];
            // Plain gradient runs only: an R run needs the gradient before f' for its curvature terms.
            fuseBelow = l > 1 && !r && out != null && d.kind() != DenseLayer.Kind.DROPOUT
                    && net.layer(l - 1).kind() == DenseLayer.Kind.DENSE;
            below = l > 1 ? net.layer(l - 1) : null;
            transposed.set(0);
        }

        // Set by the caller for each layer; the threads only read them.
        private DenseLayer d;
        private int nOut;
        private int nIn;
        private boolean residual;
        private boolean r;
        private boolean second;
        private float[] g;
        private float[] rg;
        private float[] in;
        private float[] rIn;
        /** Whether {@link #inputRows} also finishes layer l-1's gradient rows (f', bias gradient). */
        boolean fuseBelow;
        private DenseLayer below;
        /** Transpose chunks finished in this job; weight-gradient chunks wait for all of them. */
        private final AtomicInteger transposed = new AtomicInteger();

        @Override
        public void run() {
            final int rowChunks = chunks(nOut, rowChunk);
            switch (phase) {
                case BRANCH -> {
                    for (int c; (c = nextChunk.getAndIncrement()) < rowChunks; ) {
                        branchRows(c * rowChunk, Math.min(nOut, (c + 1) * rowChunk));
                    }
                }
                case ROWS -> {
                    for (int c; (c = nextChunk.getAndIncrement()) < rowChunks; ) {
                        gradientRows(c * rowChunk, Math.min(nOut, (c + 1) * rowChunk));
                    }
                }
                case PRODUCTS -> {
                    // Chunks in hand-out order: the transposes first, then the input gradient (which
                    // does not need them), then the weight gradient (which does). By the time a thread
                    // takes a weight chunk, every transpose chunk has been taken, so the wait for the
                    // last one to finish is short or nothing.
                    final int sampleChunks = l > 1 ? chunks(n, sampleChunk) : 0;
                    final int inputChunks = l > 1 ? chunks(nIn, rowChunk) : 0;
                    final int total = sampleChunks + inputChunks + rowChunks;
                    for (int c; (c = nextChunk.getAndIncrement()) < total; ) {
                        if (c < sampleChunks) {
                            final int s0 = c * sampleChunk;
                            transposeSamples(s0, Math.min(n, s0 + sampleChunk));
                            transposed.incrementAndGet();
                        } else if (c < sampleChunks + inputChunks) {
                            final int k0 = (c - sampleChunks) * rowChunk;
                            inputRows(k0, Math.min(nIn, k0 + rowChunk));
                        } else {
                            while (transposed.get() < sampleChunks) {
                                Thread.onSpinWait();
                            }
                            final int o0 = (c - sampleChunks - inputChunks) * rowChunk;
                            weightRows(o0, Math.min(nOut, o0 + rowChunk));
                        }
                    }
                }
                case DROPOUT -> {
                    if (l > 1) {
                        for (int c; (c = nextChunk.getAndIncrement()) < rowChunks; ) {
                            final int u0 = c * rowChunk;
                            final int u1 = Math.min(nOut, u0 + rowChunk);
                            dropout(d, l, delta, deltaNext, u0, u1);
                            if (r) {
                                dropout(d, l, rDelta, rDeltaNext, u0, u1);
                            }
                        }
                    }
                }
                default -> throw new IllegalStateException("phase " + phase);
            }
        }

        /**
         * Residual branch for output rows o0..o1: recompute h = f(W a^(l-1) + b), then g &odot; f'(h)
         * (and its R parts).
         */
        private void branchRows(int o0, int o1) {
            final int n = Executor.this.n;
            final int j0 = o0 * n;
            final int j1 = o1 * n;
            kernels.forward(nOut, nIn, n, d.weights(), d.bias(), in, branchScratch, o0, o1, 0, n);
            if (r) {
                rPreActivation(d, l, in, rIn, rBranch, o0, o1);
            }
            d.activation().applyInPlace(kernels, branchScratch, j0, j1);
            System.arraycopy(delta, j0, branchGradient, j0, j1 - j0);
            d.activation().backwardInPlace(kernels, branchScratch, branchGradient, j0, j1);
            if (r) {
                // R{h} = f'(z) R{z}, as the forward computed it; then R{delta} of the branch.
                d.activation().backwardInPlace(kernels, branchScratch, rBranch, j0, j1);
                System.arraycopy(rDelta, j0, rBranchGradient, j0, j1 - j0);
                d.activation().backwardInPlace(kernels, branchScratch, rBranchGradient, j0, j1);
                if (second) {
                    ActivationCurvature.addCurvatureTerm(d.activation(), branchScratch, rBranch, delta,
                            rBranchGradient, j0, j1);
                }
            }
        }

        /**
         * Output rows o0..o1 of the gradient with respect to z: f' applied (dense layers), the bias
         * gradient (and the R parts).
         */
        private void gradientRows(int o0, int o1) {
            final int n = Executor.this.n;
            if (!residual) {
                if (r) {
                    // Before delta turns from g into g (.) f': the curvature term needs g.
                    d.activation().backwardInPlace(kernels, holder[l], rDelta, o0 * n, o1 * n);
                    if (second) {
                        ActivationCurvature.addCurvatureTerm(d.activation(), holder[l], rHolder[l], delta, rDelta,
                                o0 * n, o1 * n);
                    }
                }
                d.activation().backwardInPlace(kernels, holder[l], g, o0 * n, o1 * n);
            }
            if (out != null) {
                kernels.biasGradient(n, g, out.bias(l), o0, o1);
            }
            if (r) {
                kernels.biasGradient(n, rg, product.bias(l), o0, o1);
            }
        }

        /** Samples s0..s1 of the sample-major copies of a^(l-1) (and R{a^(l-1)}) for the weight gradient. */
        private void transposeSamples(int s0, int s1) {
            final int n = Executor.this.n;
            DenseKernels.transpose(nIn, n, holder[l - 1], rowScratch, s0, s1);
            if (r && second) {
                DenseKernels.transpose(nIn, n, rIn, rRowScratch, s0, s1);
            }
        }

        /** Rows o0..o1 of the weight gradient (and of the product's weight part). */
        private void weightRows(int o0, int o1) {
            final int n = Executor.this.n;
            final float[] aRows = l == 1 ? data.inputs() : rowScratch;
            if (out != null) {
                kernels.weightGradient(nOut, nIn, n, g, aRows, out.weights(l), o0, o1);
            }
            if (r) {
                final float[] pw = product.weights(l);
                kernels.weightGradient(nOut, nIn, n, rg, aRows, pw, o0, o1);
                if (second && l > 1) {
                    kernels.weightGradient(nOut, nIn, n, g, rRowScratch, weightScratch, o0, o1);
                    for (int j = o0 * nIn; j < o1 * nIn; j++) {
                        pw[j] += weightScratch[j];
                    }
                }
            }
        }

        /** Rows k0..k1 of the gradient for a^(l-1) (and its R), plus a residual block's identity term. */
        private void inputRows(int k0, int k1) {
            final int n = Executor.this.n;
            final int j0 = k0 * n;
            final int j1 = k1 * n;
            kernels.backwardInput(nOut, nIn, n, d.weights(), g, deltaNext, k0, k1, 0, n);
            if (residual) {
                addRange(deltaNext, delta, j0, j1);
            }
            if (fuseBelow) {
                // Layer l-1's gradient rows k0..k1 are final: f' from its output a^(l-1), and the bias gradient.
                below.activation().backwardInPlace(kernels, in, deltaNext, j0, j1);
                kernels.biasGradient(n, deltaNext, out.bias(l - 1), k0, k1);
            }
            if (r) {
                kernels.backwardInput(nOut, nIn, n, d.weights(), rg, rDeltaNext, k0, k1, 0, n);
                if (second) {
                    kernels.backwardInput(nOut, nIn, n, direction.weights(l), g, rScratch, k0, k1, 0, n);
                    addRange(rDeltaNext, rScratch, j0, j1);
                }
                if (residual) {
                    addRange(rDeltaNext, rDelta, j0, j1);
                }
            }
        }
    }
}
