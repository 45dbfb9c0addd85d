package dev.checkprop.train;

import dev.checkprop.data.Batcher;
import dev.checkprop.data.Dataset;
import dev.checkprop.diag.Diagnosis;
import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.select.PlanSelection;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Training a network in one object: the plan (a byte budget, {@code auto}, or any planner), the
 * optimizer, the data order, the loop, listeners, history, early stopping, checkpoints, evaluation
 * and prediction. With {@link dev.checkprop.nn.Network} and {@link dev.checkprop.nn.Activation}, the
 * only types the common path needs.
 *
 * <pre>{@code
 * Network net = Network.builder(2).dense(64, Activation.RELU).residual(100, Activation.RELU).layerNorm()
 *         .dense(2, Activation.IDENTITY).build(42);
 * try (Training t = Training.of(net).plan("budget:8MiB").adam(1e-3).batch(128).epochs(20).earlyStopping(3)) {
 *     History h = t.fit(x, labels);   // float[] x, row-major [N, 2]; int[] labels
 *     float[] p = t.predict(new float[] {0.5f, -0.25f});
 * }
 * }</pre>
 *
 * <h2>Order of use</h2>
 * Configure with the setters (each answers {@code this}), then call a {@code fit} method. The first
 * {@code fit} splits off the held-out samples ({@link #heldOut}, by {@link #seed}), creates the
 * optimizer, chooses the plan for the network and batch and builds the executor; configuration is then
 * fixed. {@code fit} runs until {@link #epochs} epochs are done, early stopping fires, or a listener
 * calls {@link #stop()}; calling it again (with the same data) continues. {@link #close()} releases
 * the executor's threads.
 *
 * <h2>Determinism and resuming</h2>
 * A run is a pure function of the network's initial weights, the data, the seed and the settings:
 * the data order of each epoch, the split and the dropout masks are functions of (seed, step), never
 * of a stateful random generator, and every plan and thread count gives the same bits. A
 * {@link #checkpoint checkpoint} therefore needs only the weights, the optimizer state, the step and
 * the history; a run {@link #resume resumed} from it in a new process ends with the weights, losses
 * and history of an uninterrupted run, bit for bit. (With {@code auto}, a different heap can choose a
 * different micro-batch split, which changes the rounding; resuming refuses that.)
 *
 * <p>Not thread-safe; listeners run on the calling thread, between steps.
 */
public final class Training implements AutoCloseable {

    /**
     * One step, as a step listener sees it.
     *
     * @param step          the global step index (from 0) just taken
     * @param epoch         its epoch, 1-based
     * @param stepInEpoch   its index within the epoch, from 0
     * @param stepsPerEpoch steps per epoch
     * @param loss          the mini-batch's loss before the update
     */
    public record Step(long step, int epoch, int stepInEpoch, int stepsPerEpoch, double loss) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "step %d (epoch %d, %d/%d) loss %.6f", step, epoch, stepInEpoch + 1,
                    stepsPerEpoch, loss);
        }
    }

    private final Network net;
    private Loss loss;
    private String planSpec = "auto";
    private String optimizerName = "adam";
    private BiFunction<Network, LearningRate, Optimizer> optimizerFactory;
    private double lr = 1e-3;
    private String schedule = "constant";
    private LearningRate rate;
    private double momentum = 0.9;
    private double weightDecay = 0;
    private int batch = 128;
    private int epochs = 10;
    private double heldOut = 0.2;
    private long seed = 1;
    private int threads = Runtime.getRuntime().availableProcessors();
    private java.nio.file.Path spillDir;
    private int patience;
    private boolean diagnose;
    private Path checkpointFile;
    private int checkpointEvery = 1;
    private final List<Consumer<Step>> stepListeners = new ArrayList<>();
    private final List<Consumer<History.Epoch>> epochListeners = new ArrayList<>();
    private Checkpoint resumeFrom;

    private Trainer trainer;
    private Batcher batcher;
    private Dataset trainSet;
    private Dataset heldOutSet;
    private PlanSelection.Selection selection;
    private Optimizer optimizer;
    private long fingerprint;
    private long totalSteps;
    private long step;
    private double epochLossSum;
    private double epochSeconds;
    private final List<History.Epoch> epochLog = new ArrayList<>();
    private boolean stopRequested;
    private boolean stoppedEarly;
    private Executor inference;

    private Training(Network net) {
        this.net = Objects.requireNonNull(net, "net");
    }

    /** Starts a training of {@code net}; its parameters are updated in place. */
    public static Training of(Network net) {
        return new Training(net);
    }

    /**
     * Answers the plan {@code spec} gives for {@code net} and batches of {@code batch} samples, for
     * gradients: {@code budget:64MiB} (the cheapest plan whose activations fit the budget),
     * {@code auto} (what this heap can give), or a count-based planner ({@code sqrt},
     * {@code binomial:8}, ...). See {@link PlanSelection}.
     */
    public static Plan planFor(Network net, int batch, String spec) {
        return PlanSelection.select(spec, net, batch).plan();
    }

    private Training set() {
        if (trainer != null) {
            throw new IllegalStateException("training has started: settings are fixed after the first fit");
        }
        return this;
    }

    /** The loss (default: softmax cross-entropy for labelled data, mse for targets). */
    public Training loss(Loss loss) {
        this.loss = Objects.requireNonNull(loss, "loss");
        return set();
    }

    /** The plan: {@code auto} (default), {@code budget:BYTES}, {@code full}, {@code sqrt}, {@code binomial:S}, ... */
    public Training plan(String spec) {
        this.planSpec = Objects.requireNonNull(spec, "spec");
        return set();
    }

    /** Adam with learning rate {@code lr} (the default optimizer, lr 1e-3). */
    public Training adam(double lr) {
        return optimizer("adam").learningRate(lr);
    }

    /** Plain SGD with learning rate {@code lr}. */
    public Training sgd(double lr) {
        return optimizer("sgd").learningRate(lr);
    }

    /**
     * The optimizer by name: {@code sgd}, {@code momentum} (heavy ball, {@link #momentum}), {@code adam},
     * {@code adamw} (decoupled weight decay, 0.01 unless {@link #weightDecay} is set) or
     * {@code hessian-free} (truncated Newton on Gauss-Newton products; its own step sizes).
     */
    public Training optimizer(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (!List.of("sgd", "momentum", "adam", "adamw", "hessian-free").contains(n)) {
            throw new IllegalArgumentException("unknown optimizer '" + name
                    + "' (expected sgd, momentum, adam, adamw or hessian-free)");
        }
        this.optimizerName = n;
        this.optimizerFactory = null;
        return set();
    }

    /** Any optimizer, made for the network and the learning-rate schedule when training starts. */
    public Training optimizer(BiFunction<Network, LearningRate, Optimizer> factory) {
        this.optimizerFactory = Objects.requireNonNull(factory, "factory");
        return set();
    }

    /** The base learning rate (default 1e-3). */
    public Training learningRate(double lr) {
        this.lr = lr;
        return set();
    }

    /** The schedule as a string, {@link LearningRate#SYNTAX} (default {@code constant}); cosine decays over the whole run. */
    public Training schedule(String spec) {
        this.schedule = Objects.requireNonNull(spec, "spec");
        this.rate = null;
        return set();
    }

    /** An explicit schedule (replaces {@link #learningRate} and {@link #schedule}). */
    public Training schedule(LearningRate rate) {
        this.rate = Objects.requireNonNull(rate, "rate");
        return set();
    }

    /** Momentum &mu; for the {@code momentum} optimizer (default 0.9). */
    public Training momentum(double momentum) {
        this.momentum = momentum;
        return set();
    }

    /** Weight decay (default 0; for adamw, 0 means its default 0.01). */
    public Training weightDecay(double weightDecay) {
        this.weightDecay = weightDecay;
        return set();
    }

    /** Samples per mini-batch (default 128); the last partial batch of each epoch is dropped. */
    public Training batch(int batch) {
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        this.batch = batch;
        return set();
    }

    /** The number of epochs the run lasts, counted from its start (a resumed run included); default 10. */
    public Training epochs(int epochs) {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        this.epochs = epochs;
        return set();
    }

    /** The fraction of the samples held out for evaluation (default 0.2; 0 for none). */
    public Training heldOut(double fraction) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in [0, 1), got " + fraction);
        }
        this.heldOut = fraction;
        return set();
    }

    /** The seed of the held-out split and of the data order (default 1). */
    public Training seed(long seed) {
        this.seed = seed;
        return set();
    }

    /** Threads for the executor (default: all cores); every count gives the same bits. */
    /**
     * Sets where a plan's disk tier keeps its copies (default {@link Executor#defaultSpillDirectory()});
     * only a plan that writes to disk uses it.
     */
    public Training spillDirectory(java.nio.file.Path dir) {
        this.spillDir = dir;
        return this;
    }

    public Training threads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        return set();
    }

    /**
     * Stops after {@code patience} epochs without a new lowest held-out loss (training loss without
     * held-out data); 0 (default) never stops early. The weights are those of the last epoch run.
     */
    public Training earlyStopping(int patience) {
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        }
        this.patience = patience;
        return set();
    }

    /**
     * Whether each epoch ends with one more gradient on its last batch, observed for dead layers
     * (every unit with f' = 0); they appear in {@link History.Epoch#deadLayers}. Default off.
     */
    public Training diagnoseDeadLayers(boolean on) {
        this.diagnose = on;
        return set();
    }

    /** Writes a checkpoint to {@code file} (atomically) every {@code everyEpochs} epochs and when fit returns. */
    public Training checkpointTo(Path file, int everyEpochs) {
        if (everyEpochs < 1) {
            throw new IllegalArgumentException("checkpoint interval must be >= 1 epochs, got " + everyEpochs);
        }
        this.checkpointFile = Objects.requireNonNull(file, "file");
        this.checkpointEvery = everyEpochs;
        return set();
    }

    /** Adds a listener called after every step. */
    public Training onStep(Consumer<Step> listener) {
        stepListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /** Adds a listener called after every epoch (after its held-out evaluation). */
    public Training onEpoch(Consumer<History.Epoch> listener) {
        epochListeners.add(Objects.requireNonNull(listener, "listener"));
        return this;
    }

    /**
     * Continues from a checkpoint: the first fit copies its weights into this training's network and
     * its optimizer state into the optimizer, and carries on from its step.
     *
     * @throws IOException if it cannot be read
     * @throws IllegalArgumentException if its network is not shaped like this one
     */
    public Training resume(Path file) throws IOException {
        return resume(Checkpoint.read(file));
    }

    /** As {@link #resume(Path)}, for a checkpoint already read. */
    public Training resume(Checkpoint checkpoint) {
        set();
        Objects.requireNonNull(checkpoint, "checkpoint");
        checkDropoutSeeds(checkpoint.network());
        Network probe = net.copy();
        checkpoint.copyWeightsInto(probe); // shapes checked now, weights copied when training starts
        this.resumeFrom = checkpoint;
        return this;
    }

    private void checkDropoutSeeds(Network other) {
        for (int l = 1; l <= Math.min(net.depth(), other.depth()); l++) {
            if (net.layer(l) instanceof DropoutLayer a && other.layer(l) instanceof DropoutLayer b && a.seed() != b.seed()) {
                throw new IllegalArgumentException("dropout layer " + l + " has mask seed " + a.seed()
                        + " here but " + b.seed() + " in the checkpoint");
            }
        }
    }

    /** Asks a running fit to return after the current step (from a listener). */
    public void stop() {
        stopRequested = true;
    }

    /** Trains on labelled samples: {@code x} row-major [N, n0], one label per sample. */
    public History fit(float[] x, int[] labels) {
        return fit(Dataset.classification(x, net.inputWidth(), labels, net.outputWidth()));
    }

    /** Trains on regression samples: {@code x} row-major [N, n0], {@code y} row-major [N, nL]. */
    public History fit(float[] x, float[] y) {
        return fit(Dataset.regression(x, net.inputWidth(), y, net.outputWidth()));
    }

    /** Trains on {@code data}, holding out {@link #heldOut} of it (chosen by the seed). */
    public History fit(Dataset data) {
        prepare(data);
        return run();
    }

    /** Trains on {@code train} and evaluates each epoch on {@code heldOut} (null: no evaluation). */
    public History fit(Dataset train, Dataset heldOut) {
        prepare(train, heldOut);
        return run();
    }

    /**
     * Does what the first fit does before its first step &mdash; the split, the optimizer, the plan, the
     * executor, restoring a checkpoint &mdash; so that {@link #selection()} and the data can be shown first.
     * Later calls check the data is the same.
     *
     * @throws IllegalStateException if training started on different data
     */
    public Training prepare(Dataset data) {
        Dataset train = data;
        Dataset held = null;
        if (heldOut > 0) {
            Dataset.Split split = data.split(heldOut, seed);
            train = split.train();
            held = split.heldOut();
        }
        return prepare(train, held);
    }

    /** As {@link #prepare(Dataset)} with an explicit held-out set (null: none). */
    public Training prepare(Dataset train, Dataset held) {
        if (trainer == null) {
            start(train, held);
        } else if (fingerprint(train, held) != fingerprint) {
            throw new IllegalStateException("fit continues on the data it started with; this is different data");
        }
        return this;
    }

    private void start(Dataset train, Dataset held) {
        if (train.inputWidth() != net.inputWidth() || train.outputWidth() != net.outputWidth()) {
            throw new IllegalArgumentException("the data has inputs of width " + train.inputWidth() + " and "
                    + train.outputWidth() + (train.isClassification() ? " classes" : " targets") + "; the network takes "
                    + net.inputWidth() + " and gives " + net.outputWidth());
        }
        if (train.size() < batch) {
            throw new IllegalArgumentException("batch " + batch + " is larger than the " + train.size() + " training samples");
        }
        Loss lossFn = loss != null ? loss : train.isClassification() ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
        Batcher b = new Batcher(train, batch, seed);
        long total = (long) epochs * b.stepsPerEpoch();
        if (total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(epochs + " epochs of " + b.stepsPerEpoch() + " steps is " + total
                    + " steps, more than the " + Integer.MAX_VALUE + " a learning-rate schedule counts");
        }
        LearningRate r = rate != null ? rate : LearningRate.parse(schedule, lr, (int) total);
        boolean hf = optimizerFactory == null && optimizerName.equals("hessian-free");
        Optimizer opt = hf ? null : optimizerFactory != null ? optimizerFactory.apply(net, r) : create(optimizerName, r);
        long[] stateLengths = hf ? hessianFreeState(net) : opt.stateArrays().stream().mapToLong(a -> a.length).toArray();
        // The probe measures where the trainer runs and spills: its threads, its spill directory.
        PlanSelection.Selection sel = PlanSelection.select(planSpec, net, batch, train.isClassification(), stateLengths,
                hf ? StateModel.Mode.CURVATURE : StateModel.Mode.GRADIENT, threads, spillDir);
        HeapBudget.check(sel.plan().name(), sel.predicted());
        if (hf && sel.microBatches() > 1) {
            throw new IllegalStateException("hessian-free does not split batches: " + sel.explanation());
        }
        long fp = fingerprint(train, held);
        Checkpoint ck = resumeFrom;
        if (ck != null) {
            String optName = hf ? "hessian-free" : opt.toString();
            List<String> differs = new ArrayList<>();
            if (ck.batch() != batch) {
                differs.add("batch " + batch + " (checkpoint: " + ck.batch() + ")");
            }
            if (ck.seed() != seed) {
                differs.add("seed " + seed + " (checkpoint: " + ck.seed() + ")");
            }
            if (!ck.optimizer().equals(optName)) {
                differs.add("optimizer " + optName + " (checkpoint: " + ck.optimizer() + ")");
            }
            if (ck.dataFingerprint() != fp) {
                differs.add(String.format("the data or its held-out split (fingerprint %016x, checkpoint: %016x)", fp,
                        ck.dataFingerprint()));
            }
            if (ck.microBatches() != sel.microBatches()) {
                differs.add(sel.microBatches() + " micro-batches per batch (checkpoint: " + ck.microBatches()
                        + "; give the same heap or an explicit plan)");
            }
            if (ck.step() > total) {
                differs.add(epochs + " epochs (" + total + " steps; the checkpoint is at step " + ck.step() + ")");
            }
            if (!differs.isEmpty()) {
                throw new IllegalArgumentException("cannot resume this run from the checkpoint, which was made with other settings: "
                        + String.join(", ", differs) + "; resume with the checkpoint's settings and data");
            }
        }
        this.loss = lossFn;
        this.trainSet = train;
        this.heldOutSet = held;
        this.batcher = b;
        this.totalSteps = total;
        this.selection = sel;
        this.optimizer = opt;
        this.fingerprint = fp;
        this.trainer = hf ? Trainer.hessianFree(net, lossFn, b, sel.plan(), threads, HessianFree.Settings.defaults(), spillDir)
                : new Trainer(net, lossFn, b, opt, sel.plan(), sel.microBatches(), sel.microBatchSize(), threads, spillDir);
        if (ck != null) {
            restore(ck);
        }
    }

    private void restore(Checkpoint ck) {
        ck.copyWeightsInto(net);
        List<float[]> state = trainer.optimizer().stateArrays();
        if (state.size() != ck.optimizerState().size()) {
            throw new IllegalArgumentException("the checkpoint holds " + ck.optimizerState().size()
                    + " optimizer arrays, the optimizer has " + state.size());
        }
        for (int i = 0; i < state.size(); i++) {
            float[] from = ck.optimizerState().get(i);
            if (from.length != state.get(i).length) {
                throw new IllegalArgumentException("optimizer array " + i + " has " + state.get(i).length
                        + " values, the checkpoint's " + from.length);
            }
            System.arraycopy(from, 0, state.get(i), 0, from.length);
        }
        if (trainer.optimizer() instanceof HessianFree hf) {
            hf.restoreScalars(ck.hessianFreeScalars());
        }
        step = ck.step();
        epochLossSum = ck.epochLossSum();
        epochSeconds = ck.epochSeconds();
        epochLog.clear();
        epochLog.addAll(ck.epochs());
        resumeFrom = null;
    }

    private Optimizer create(String name, LearningRate r) {
        return switch (name) {
            case "sgd" -> new Sgd(net, r, 0, weightDecay);
            case "momentum" -> new Sgd(net, r, momentum, weightDecay);
            case "adam" -> new Adam(net, r, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS, weightDecay);
            case "adamw" -> new AdamW(net, r, Adam.DEFAULT_BETA1, Adam.DEFAULT_BETA2, Adam.DEFAULT_EPS,
                    weightDecay == 0 ? AdamW.DEFAULT_WEIGHT_DECAY : weightDecay);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "'");
        };
    }

    /** The Hessian-free optimizer's state: six gradient-shaped vectors and a parameter backup. */
    static long[] hessianFreeState(Network net) {
        long[] lengths = new long[7 * 2 * net.depth()];
        int j = 0;
        for (int copy = 0; copy < 7; copy++) {
            for (int l = 1; l <= net.depth(); l++) {
                lengths[j++] = net.layer(l).weights().length;
                lengths[j++] = net.layer(l).bias().length;
            }
        }
        return lengths;
    }

    private History run() {
        stopRequested = false;
        final int spe = batcher.stepsPerEpoch();
        if (earlyStopDue()) {
            stoppedEarly = true;
            return history();
        }
        while (step < totalSteps && !stopRequested) {
            if (step % spe == 0) {
                epochLossSum = 0;
                epochSeconds = 0;
            }
            long t0 = System.nanoTime();
            double value = trainer.step(step);
            epochLossSum += value;
            epochSeconds += (System.nanoTime() - t0) / 1e9;
            Step s = new Step(step, (int) (step / spe) + 1, (int) (step % spe), spe, value);
            step++;
            for (Consumer<Step> l : stepListeners) {
                l.accept(s);
            }
            if (step % spe == 0) {
                endEpoch(spe);
            }
        }
        if (checkpointFile != null) {
            checkpoint(checkpointFile);
        }
        return history();
    }

    private void endEpoch(int spe) {
        long t0 = System.nanoTime();
        int epoch = (int) (step / spe);
        List<Integer> dead = new ArrayList<>();
        if (diagnose && trainer.gradients() != null) {
            // One more gradient on the epoch's last batch, observed: a layer whose units all have f' = 0
            // stops backpropagation. The executor holds one micro-batch when the batch is split.
            Batch last = batcher.batch(step - 1);
            Diagnosis d = Diagnosis.run(trainer.executor(), selection.microBatches() > 1
                    ? last.slice(0, selection.microBatchSize()) : last, loss, trainer.gradients());
            for (Diagnosis.Layer l : d.deadLayers()) {
                dead.add(l.layer());
            }
        }
        double heldLoss = Double.NaN;
        double heldAcc = Double.NaN;
        if (heldOutSet != null) {
            Evaluation e = Evaluation.of(trainer.executor(), heldOutSet, loss);
            heldLoss = e.loss();
            heldAcc = e.accuracy();
        }
        epochSeconds += (System.nanoTime() - t0) / 1e9;
        History.Epoch e = new History.Epoch(epoch, step, epochLossSum / spe, heldLoss, heldAcc, epochSeconds, dead);
        epochLog.add(e);
        for (Consumer<History.Epoch> l : epochListeners) {
            l.accept(e);
        }
        if (checkpointFile != null && epoch % checkpointEvery == 0 && step < totalSteps) {
            checkpoint(checkpointFile);
        }
        if (earlyStopDue()) {
            stoppedEarly = true;
            stopRequested = true;
        }
    }

    private boolean earlyStopDue() {
        if (patience == 0 || epochLog.isEmpty()) {
            return false;
        }
        History.Epoch best = History.best(epochLog);
        return epochLog.get(epochLog.size() - 1).epoch() - best.epoch() >= patience;
    }

    /**
     * Writes a checkpoint of the run as it stands (atomically: a failed write leaves an older file as
     * it was). Between fits or from a listener.
     *
     * @throws IllegalStateException before training has started
     * @throws UncheckedIOException  if the file cannot be written
     */
    public void checkpoint(Path file) {
        if (trainer == null) {
            throw new IllegalStateException("nothing to checkpoint before the first fit");
        }
        Optimizer opt = trainer.optimizer();
        Checkpoint ck = new Checkpoint(net, step, batch, seed, opt instanceof HessianFree ? "hessian-free" : opt.toString(),
                opt.stateArrays(), opt instanceof HessianFree hf ? hf.checkpointScalars() : null, fingerprint,
                selection.microBatches(), epochLossSum, epochSeconds, epochLog, selection.plan().name());
        try {
            ck.write(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers the history so far (a snapshot). */
    public History history() {
        return new History(epochLog, stoppedEarly);
    }

    /**
     * Answers the outputs a<sup>L</sup> for inputs {@code x}, row-major [N, n0] (one sample or many):
     * row-major [N, nL] (logits for a classifier). Dropout is off. No labels needed.
     *
     * @throws IllegalArgumentException if {@code x} is not a whole number of rows or holds a NaN
     */
    public float[] predict(float[] x) {
        final int n0 = net.inputWidth();
        final int nL = net.outputWidth();
        if (x.length == 0 || x.length % n0 != 0) {
            throw new IllegalArgumentException("x has " + x.length + " values, not a positive multiple of the input width " + n0);
        }
        final int n = x.length / n0;
        final float[] out = new float[Math.multiplyExact(n, nL)];
        final Executor ex = inferenceExecutor();
        final int chunk = ex.batchSize();
        final float[] buf = new float[chunk * nL];
        for (int from = 0; from < n; from += chunk) {
            final int rows = Math.min(chunk, n - from);
            // The executor's inference ignores targets: zeros stand in for them.
            Batch b = Batch.regression(java.util.Arrays.copyOfRange(x, from * n0, (from + rows) * n0), n0,
                    new float[rows * nL], nL);
            ex.predict(b, buf);
            System.arraycopy(buf, 0, out, from * nL, rows * nL);
        }
        return out;
    }

    /** Answers the index of the largest output for each sample of {@code x} (ties to the lower class). */
    public int[] classify(float[] x) {
        final float[] out = predict(x);
        final int nL = net.outputWidth();
        final int[] c = new int[out.length / nL];
        for (int i = 0; i < c.length; i++) {
            int arg = 0;
            for (int u = 1; u < nL; u++) {
                if (out[i * nL + u] > out[i * nL + arg]) {
                    arg = u;
                }
            }
            c[i] = arg;
        }
        return c;
    }

    /** Answers the loss and accuracy on labelled samples. */
    public Evaluation evaluate(float[] x, int[] labels) {
        return evaluate(Dataset.classification(x, net.inputWidth(), labels, net.outputWidth()));
    }

    /** Answers the loss (and accuracy, for labels) on {@code data}. */
    public Evaluation evaluate(Dataset data) {
        Loss l = loss != null ? loss : data.isClassification() ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
        return Evaluation.of(inferenceExecutor(), data, l);
    }

    private Executor inferenceExecutor() {
        if (trainer != null) {
            return trainer.executor();
        }
        if (inference == null) {
            // Inference keeps no activations: the smallest plan keeps the executor's pool to two buffers.
            Plan p = Planners.parse(net.depth() == 1 ? "full" : "optimal:2").plan(net.depth());
            inference = new Executor(net, p, 256, Kernels.get(), threads);
        }
        return inference;
    }

    /**
     * Writes the network (its current weights) as a model file ({@link dev.checkprop.io.ModelFile}),
     * atomically; read it back with {@link #load}.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public void save(Path file) {
        try {
            dev.checkprop.io.ModelFile.save(net, file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Reads a model file: one written by {@link #save}, by the command line, or converted from PyTorch.
     *
     * @throws UncheckedIOException if it cannot be read or is not a model file (the message names the file and the fault)
     */
    public static Network load(Path file) {
        try {
            return dev.checkprop.io.ModelFile.load(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Answers the network being trained. */
    public Network network() {
        return net;
    }

    /** Answers the steps taken so far. */
    public long step() {
        return step;
    }

    /** Answers the run's length in steps (after the first fit), 0 before. */
    public long totalSteps() {
        return totalSteps;
    }

    /** Answers the steps per epoch (after the first fit), 0 before. */
    public int stepsPerEpoch() {
        return batcher == null ? 0 : batcher.stepsPerEpoch();
    }

    /** Answers the plan chosen and why (after the first fit), or null before. */
    public PlanSelection.Selection selection() {
        return selection;
    }

    /** Answers the optimizer (after the first fit), or null before or for hessian-free. */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** Answers the loss trained on (after the first fit, or as set). */
    public Loss lossFunction() {
        return loss;
    }

    /** Answers the training samples (after the first fit). */
    public Dataset trainingSet() {
        return trainSet;
    }

    /** Answers the held-out samples (after the first fit), or null without. */
    public Dataset heldOutSet() {
        return heldOutSet;
    }

    /** Answers what the executor counted in its last gradient, or null before the first step. */
    public RunStats lastRun() {
        return trainer == null || step == 0 ? null : trainer.executor().lastRun();
    }

    /** A fingerprint of the samples (not a cryptographic hash): a resumed run checks it has the same data. */
    static long fingerprint(Dataset train, Dataset held) {
        long h = 0x9E3779B97F4A7C15L;
        for (Dataset d : new Dataset[] {train, held}) {
            if (d == null) {
                h = mix(h, -1);
                continue;
            }
            h = mix(h, d.size());
            h = mix(h, d.inputWidth());
            h = mix(h, d.outputWidth());
            for (int i = 0; i < d.size(); i++) {
                for (int k = 0; k < d.inputWidth(); k++) {
                    h = mix(h, Float.floatToRawIntBits(d.input(i, k)));
                }
                if (d.isClassification()) {
                    h = mix(h, d.label(i));
                } else {
                    for (int u = 0; u < d.targetWidth(); u++) {
                        h = mix(h, Float.floatToRawIntBits(d.target(i, u)));
                    }
                }
            }
        }
        return h;
    }

    private static long mix(long h, long v) {
        long z = h * 31 + v + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    @Override
    public void close() {
        if (trainer != null) {
            trainer.close();
        }
        if (inference != null) {
            inference.close();
        }
    }

    @Override
    public String toString() {
        return "Training[" + net + ", step " + step + (totalSteps > 0 ? " of " + totalSteps : "") + ", plan "
                + (selection == null ? planSpec : selection.plan().name()) + "]";
    }
}
