package dev.checkprop.cli;

import dev.checkprop.data.Dataset;
import dev.checkprop.exec.RunStats;
import dev.checkprop.io.ModelFile;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.train.Checkpoint;
import dev.checkprop.train.Evaluation;
import dev.checkprop.train.History;
import dev.checkprop.train.Training;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train}: a network &mdash; a new residual network, a model file, or a checkpointed run &mdash; on a
 * dataset under a checkpoint plan, with progress, per-epoch held-out figures, checkpoints, a plot and a
 * summary of what the plan cost. The loop is {@link Training}'s.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a network (new, --model FILE or --resume CKPT) under a checkpoint plan (auto fits the heap).")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--task", description = "built-in data: spirals | teacher (default: spirals unless --data)")
    String task;

    @Option(names = "--data", description = "training data: .safetensors, .csv (last column = label or --targets), or an IDX images file with --idx-labels")
    Path data;

    @Option(names = "--idx-labels", description = "IDX labels file, with an IDX images file as --data")
    Path idxLabels;

    @Option(names = "--targets", defaultValue = "0", description = "CSV regression: the last K columns are targets (default: classification by the last column; a safetensors file is regression when it has y and no labels)")
    int targets;

    @Option(names = "--samples", defaultValue = DataOptions.DEFAULT_SAMPLES, description = "samples of a built-in task (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--turns", defaultValue = DataOptions.DEFAULT_TURNS, description = "turns of each spiral for --task spirals (default: ${DEFAULT-VALUE})")
    int turns;

    @Option(names = "--model", description = "train this model file (from init, an earlier run, or PyTorch) instead of a new network")
    Path model;

    @Option(names = "--resume", description = "continue the run checkpointed here (same data, optimizer, batch and seed; --epochs counts from its start)")
    Path resume;

    @Option(names = "--checkpoint", description = "write a checkpoint here after every epoch and at the end (atomically), for --resume")
    Path checkpoint;

    @Option(names = "--plot", description = "draw the training and held-out loss and accuracy per epoch into this PNG file")
    Path plot;

    @Option(names = "--blocks", defaultValue = "300", description = "residual blocks (default: ${DEFAULT-VALUE})")
    int blocks;

    @Option(names = "--width", defaultValue = "64", description = "width of the blocks (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--activation", defaultValue = "relu", description = "activation of the blocks (default: ${DEFAULT-VALUE})")
    String activation;

    @Option(names = "--dropout", defaultValue = "0", description = "dropout rate after every --dropout-every blocks (default: none)")
    float dropout;

    @Option(names = "--dropout-every", defaultValue = "10", description = "(default: ${DEFAULT-VALUE})")
    int dropoutEvery;

    @Option(names = "--plan", defaultValue = "auto", description = "auto | budget:BYTES | full | uniform:K | sqrt | binomial:S | optimal:M (default: ${DEFAULT-VALUE})")
    String plan;

    @Option(names = "--optimizer", defaultValue = "adam",
            description = "sgd | momentum | adam | adamw | hessian-free (default: ${DEFAULT-VALUE})")
    String optimizer;

    @Option(names = "--lr", defaultValue = "1e-3", description = "learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--lr-schedule", defaultValue = "constant", description = "constant | step:K:GAMMA | cosine[:WARMUP[:LR_MIN]] (default: ${DEFAULT-VALUE})")
    String schedule;

    @Option(names = "--weight-decay", defaultValue = "0", description = "(default: ${DEFAULT-VALUE})")
    double weightDecay;

    @Option(names = "--momentum", defaultValue = "0.9", description = "for --optimizer momentum (default: ${DEFAULT-VALUE})")
    double momentum;

    @Option(names = "--epochs", defaultValue = "20", description = "(default: ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch", defaultValue = "128", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--held-out", defaultValue = DataOptions.DEFAULT_HELD_OUT, description = "fraction held out for evaluation (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--spill-dir", description = Args.SPILL_DIR_HELP)
    java.nio.file.Path spillDir;

    @Option(names = "--save", description = "write the trained model here (safetensors)")
    Path save;

    @Option(names = "--report", description = "write the summary as JSON here")
    Path report;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "progress bar when stderr is a terminal (default: on)")
    boolean progress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Options that shape a new network: refused with --model and --resume, which bring their own. */
    private static final String[] NETWORK_OPTIONS = {"--blocks", "--width", "--activation", "--dropout", "--dropout-every"};

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        if (epochs < 1 || batch < 1 || blocks < 0 || width < 1 || !(heldOut > 0 && heldOut < 1)) {
            throw new IllegalArgumentException("--epochs, --batch and --width must be >= 1, --blocks >= 0, --held-out in (0, 1)");
        }
        // Before any work: a run that trains for an hour must not then fail to save, or save over its data.
        // --resume and --checkpoint may name one file: the checkpoint is read whole before training, and
        // each new one replaces it atomically.
        boolean sameCheckpoint = resume != null && checkpoint != null && Files.exists(resume) && Files.exists(checkpoint)
                && Files.isSameFile(resume, checkpoint);
        new FileArgs().in("--data", data).in("--idx-labels", idxLabels).in("--model", model)
                .in("--resume", sameCheckpoint ? null : resume)
                .out("--save", save).out("--report", report).out("--checkpoint", checkpoint).out("--plot", plot).check();
        if (model != null && resume != null) {
            throw new IllegalArgumentException("give either --model or --resume (the checkpoint holds the model), not both");
        }
        if (model != null || resume != null) {
            for (String o : NETWORK_OPTIONS) {
                if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                    throw new IllegalArgumentException(o + " shapes a new network; " + (model != null ? "--model " + model
                            : "--resume " + resume) + " brings its own");
                }
            }
        }
        // NaN fails every comparison: the negated forms refuse it too.
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("--dropout must be in [0, 1), got " + dropout);
        }
        if (dropoutEvery < 1) {
            throw new IllegalArgumentException("--dropout-every must be >= 1, got " + dropoutEvery);
        }
        int nThreads = Args.threads(threads);
        java.nio.file.Path spill = Args.spillDir(spillDir);
        int stateCopies = Optimizers.stateCopies(optimizer);
        Activation f = Activation.parse(activation);
        Dataset all = DataOptions.load(task, data, idxLabels, targets, samples, seed, turns);
        Checkpoint ck = resume == null ? null : Checkpoint.read(resume);
        Network net;
        String origin;
        if (ck != null) {
            net = ck.network();
            origin = "resumed from " + resume + " at step " + ck.step();
        } else if (model != null) {
            net = ModelFile.load(model);
            origin = "from " + model;
        } else {
            // Before the network is built: weights, gradients and optimizer state of --blocks x --width.
            dev.checkprop.memory.Preflight.chain("--blocks " + blocks + " --width " + width, all.inputWidth(), width, blocks,
                    all.outputWidth(), 2 + stateCopies);
            Network.Builder nb = Network.builder(all.inputWidth()).dense(width, f);
            for (int b = 1; b <= blocks; b++) {
                nb.residual(1, f);
                if (dropout > 0 && b % dropoutEvery == 0) {
                    nb.dropout(dropout);
                }
            }
            net = nb.dense(all.outputWidth(), Activation.IDENTITY).build(seed);
            origin = null;
        }
        Conversions.note(console, model, data);
        if (all.inputWidth() != net.inputWidth() || all.outputWidth() != net.outputWidth()) {
            throw new IllegalArgumentException(DataOptions.describe(task, data) + " has inputs of width " + all.inputWidth()
                    + " and " + all.outputWidth() + " outputs; the model takes " + net.inputWidth() + " and gives "
                    + net.outputWidth());
        }
        // As Dataset.split and Batcher count them, for the message in the options' terms.
        long trainSize = all.size() - Math.round(heldOut * all.size());
        long totalSteps = (long) epochs * (trainSize / Math.max(1, batch));
        if (batch <= trainSize && totalSteps > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--epochs " + epochs + " of " + trainSize / batch + " steps is " + totalSteps
                    + " steps, more than the " + Integer.MAX_VALUE + " a learning-rate schedule counts");
        }
        if (trainSize < batch) {
            throw new IllegalArgumentException("--batch " + batch + " is larger than the " + trainSize + " training samples");
        }
        boolean hf = optimizer.equalsIgnoreCase("hessian-free");
        boolean bar = progress && Terminal.stderrIsTerminal();
        Training training = Training.of(net).optimizer(optimizer).learningRate(lr).schedule(schedule).momentum(momentum)
                .weightDecay(weightDecay).batch(batch).epochs(epochs).heldOut(heldOut).seed(seed).threads(nThreads).spillDirectory(spill)
                .plan(plan).diagnoseDeadLayers(!hf);
        if (checkpoint != null) {
            training.checkpointTo(checkpoint, 1);
        }
        if (ck != null) {
            training.resume(ck);
        }
        long t0 = System.nanoTime();
        Map<String, Object> summary = new LinkedHashMap<>();
        Evaluation trainEval;
        Evaluation heldEval;
        RunStats stats;
        History history;
        PlanSelection.Selection sel;
        try (training) {
            training.prepare(all);
            sel = training.selection();
            Plan chosen = sel.plan();
            Dataset train = training.trainingSet();
            console.printf("%s%s%n", net, origin == null ? "" : " (" + origin + ")");
            console.printf("data: %d training, %d held-out samples; %s, %s, batch %d, %d epochs of %d steps%n",
                    train.size(), training.heldOutSet().size(), training.lossFunction().cliName(),
                    hf ? "hessian-free" : training.optimizer(), batch, epochs, training.stepsPerEpoch());
            console.printf("%s%n", sel.explanation());
            console.printf("memory: peak activations %s, total predicted %s of %s usable heap; %d forward evaluations per step"
                            + " (L = %d)%n", HeapBudget.human(sel.predicted().peakLiveBytes()),
                    HeapBudget.human(sel.predicted().total()), HeapBudget.human(HeapBudget.usable()),
                    chosen.stats().forwardEvaluations() * sel.microBatches(), net.depth());
            String gain = whatCheckpointingBuys(net, sel, train.isClassification(), hf);
            if (gain != null) {
                console.printf("%s%n", gain);
            }
            console.printf("%n");
            console.flush();
            long firstStep = training.step();
            long total = training.totalSteps();
            int perEpoch = training.stepsPerEpoch();
            long[] shown = {System.nanoTime()};
            if (bar) {
                training.onStep(s -> {
                    long now = System.nanoTime();
                    if (now - shown[0] < 100_000_000L && s.step() + 1 < total) {
                        return; // at most ten updates a second
                    }
                    shown[0] = now;
                    double perStep = (now - t0) / 1e9 / (s.step() + 1 - firstStep);
                    System.err.printf(Locale.ROOT, "\r%s epoch %d/%d step %d/%d loss %.4f %.0f samples/s ETA %s   ",
                            bar(s.step() + 1, total), s.epoch(), epochs, s.stepInEpoch() + 1, perEpoch, s.loss(),
                            batch / perStep, eta(perStep * (total - s.step() - 1)));
                });
            }
            training.onEpoch(e -> {
                if (bar) {
                    System.err.print("\r" + " ".repeat(110) + "\r");
                }
                console.printf(Locale.ROOT, "epoch %3d  train loss %.4f  held-out loss %.4f%s  %.1f s (%.0f samples/s)%n",
                        e.epoch(), e.trainLoss(), e.heldOutLoss(),
                        Double.isNaN(e.heldOutAccuracy()) ? "" : String.format(Locale.ROOT, "  accuracy %.2f%%",
                                100 * e.heldOutAccuracy()), e.seconds(), perEpoch * (double) batch / e.seconds());
                if (!e.deadLayers().isEmpty()) {
                    console.printf("  %s%n", deadLayers(e.deadLayers(), net));
                }
                console.flush();
            });
            if (firstStep >= total) {
                console.printf("the checkpoint is at step %d of %d: nothing left to train (raise --epochs)%n", firstStep, total);
            }
            history = training.fit(all);
            if (history.stoppedEarly()) {
                console.printf("stopped early after epoch %d%n", history.last().epoch());
            }
            trainEval = training.evaluate(train);
            heldEval = training.evaluate(training.heldOutSet());
            stats = training.lastRun();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        // The last update can overflow without a gradient left to notice it: check before anything is written.
        try {
            net.checkFinite();
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("non-finite result: after training " + e.getMessage()
                    + " (the last update overflowed; lower --lr); nothing was written");
        }
        if (!Double.isFinite(trainEval.loss()) || !Double.isFinite(heldEval.loss())) {
            throw dev.checkprop.exec.NonFiniteException.forLoss(net, Double.isFinite(trainEval.loss())
                    ? training.heldOutSet().toBatch() : training.trainingSet().toBatch(), training.lossFunction(),
                    Double.isFinite(trainEval.loss()) ? heldEval.loss() : trainEval.loss());
        }
        if (save != null) {
            ModelFile.save(net, save);
        }
        Plan chosen = sel.plan();
        long evaluations = stats == null ? chosen.stats().forwardEvaluations() : stats.forwardEvaluations();
        console.printf(Locale.ROOT, "%ndone in %.1f s: plan %s, peak activations %s (executor counted %s payload),"
                        + " %d forward evaluations per step for %d layers%s%n",
                seconds, chosen.name(), HeapBudget.human(sel.predicted().peakLiveBytes()),
                stats == null ? "no" : HeapBudget.human(stats.peakActivationBytes()), evaluations * sel.microBatches(),
                net.depth(), sel.microBatches() > 1 ? " (" + sel.microBatches() + " micro-batches)" : "");
        console.printf(Locale.ROOT, "final: train loss %.4f%s, held-out loss %.4f%s%n", trainEval.loss(),
                acc(trainEval), heldEval.loss(), acc(heldEval));
        summary.put("plan", chosen.name());
        summary.put("layers", net.depth());
        summary.put("parameters", net.parameterCount());
        summary.put("batch", batch);
        summary.put("micro_batches", sel.microBatches());
        if (sel.budgetBytes() >= 0) {
            summary.put("budget_bytes", sel.budgetBytes());
        }
        summary.put("peak_activation_bytes", sel.predicted().peakLiveBytes());
        summary.put("predicted_total_bytes", sel.predicted().total());
        summary.put("forward_evaluations_per_step", evaluations * sel.microBatches());
        summary.put("optimizer", hf ? "hessian-free" : String.valueOf(training.optimizer()));
        summary.put("epochs", epochs);
        summary.put("steps", training.step());
        if (ck != null) {
            summary.put("resumed_from_step", ck.step());
        }
        summary.put("stopped_early", history.stoppedEarly());
        summary.put("seconds", seconds);
        summary.put("threads", nThreads);
        summary.put("train_loss", trainEval.loss());
        summary.put("train_accuracy", trainEval.accuracy());
        summary.put("held_out_loss", heldEval.loss());
        summary.put("held_out_accuracy", heldEval.accuracy());
        summary.put("history", Reports.history(history));
        if (report != null) {
            Reports.write(summary, report);
        }
        if (plot != null) {
            Reports.plot(history, plot, net.toString());
        }
        return 0;
    }

    /**
     * One line on what the plan saves against full storage: its activations and the extra forward
     * evaluations they cost. Null for full storage itself.
     */
    static String whatCheckpointingBuys(Network net, PlanSelection.Selection sel, boolean labels, boolean hf) {
        Plan chosen = sel.plan();
        Plan full = Planners.parse("full").plan(net.depth());
        if (chosen.stats().forwardEvaluations() == full.stats().forwardEvaluations()) {
            return null;
        }
        ArrayLayout layout = ArrayLayout.current().heapFootprint();
        long fullBytes = MemoryModel.predict(net, full, sel.microBatchSize(), labels, new long[0],
                hf ? StateModel.Mode.CURVATURE : StateModel.Mode.GRADIENT, layout).peakLiveBytes();
        long kept = sel.predicted().peakLiveBytes();
        long extra = chosen.stats().forwardEvaluations() - full.stats().forwardEvaluations();
        long available = sel.budgetBytes();
        return String.format(Locale.ROOT, "checkpointing: full storage would keep %s of activations%s; plan %s keeps %s"
                        + " (%.0f%%) for %d forward evaluations per step instead of %d (+%.0f%%)",
                HeapBudget.human(fullBytes), available >= 0 && fullBytes > available
                        ? " (more than the " + HeapBudget.human(available) + " budget)" : "",
                chosen.name(), HeapBudget.human(kept), 100.0 * kept / fullBytes, chosen.stats().forwardEvaluations(),
                full.stats().forwardEvaluations(), 100.0 * extra / full.stats().forwardEvaluations());
    }

    /** A count and a short list: "3 dead layers (f' = 0 for every unit on the epoch's last batch): 12, 57, 301". */
    static String deadLayers(List<Integer> dead, Network net) {
        final int shown = 8;
        List<String> names = new ArrayList<>();
        long residual = dead.stream().filter(l -> net.layer(l).kind().equals("residual")).count();
        for (int i = 0; i < Math.min(shown, dead.size()); i++) {
            names.add(Integer.toString(dead.get(i)));
        }
        String list = String.join(", ", names) + (dead.size() > shown ? " and " + (dead.size() - shown) + " more" : "");
        return String.format(Locale.ROOT, "warning: %d dead layer%s (f' = 0 for every unit on the epoch's last batch; %d"
                        + " residual, which pass the gradient on through their skip connection): %s",
                dead.size(), dead.size() == 1 ? "" : "s", residual, list);
    }

    private static String acc(Evaluation e) {
        return Double.isNaN(e.accuracy()) ? "" : String.format(Locale.ROOT, " (accuracy %.2f%%)", 100 * e.accuracy());
    }

    private static String bar(long done, long total) {
        int width = 24;
        int full = (int) (width * done / Math.max(1, total));
        return "[" + "#".repeat(full) + ".".repeat(width - full) + "]";
    }

    private static String eta(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    /** Whether the process's stderr, where the progress bar goes, is a terminal. */
    static final class Terminal {
        private Terminal() {
        }

        static boolean stderrIsTerminal() {
            try {
                // Linux names the device behind each descriptor: a terminal is a pty or a tty.
                Path fd = Path.of("/proc/self/fd/2");
                if (Files.isSymbolicLink(fd)) {
                    String target = Files.readSymbolicLink(fd).toString();
                    return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
                }
            } catch (IOException | SecurityException | UnsupportedOperationException e) {
                // below
            }
            // Elsewhere JDK 17 can only tell whether stdin and stdout are a terminal; stderr usually goes with them.
            return System.console() != null;
        }
    }
}
