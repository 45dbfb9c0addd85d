package dev.checkprop.cli;

import dev.checkprop.nn.Curvature;
import dev.checkprop.data.Batcher;
import dev.checkprop.data.Dataset;
import dev.checkprop.diag.Diagnosis;
import dev.checkprop.exec.RunStats;
import dev.checkprop.io.ModelFile;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.plan.Plan;
import dev.checkprop.train.HessianFree;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.train.Evaluation;
import dev.checkprop.train.LearningRate;
import dev.checkprop.train.Optimizer;
import dev.checkprop.train.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code train}: a residual network on a dataset under a checkpoint plan, with progress, per-epoch
 * held-out figures, and a summary of what the plan cost.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a residual network under a checkpoint plan (auto fits the heap).")
final class TrainCommand implements Callable<Integer> {

    @Option(names = "--task", description = "built-in data: spirals | teacher (default: spirals unless --data)")
    String task;

    @Option(names = "--data", description = "training data: .safetensors, .csv (last column = label or --targets), or an IDX images file with --idx-labels")
    Path data;

    @Option(names = "--idx-labels", description = "IDX labels file, with an IDX images file as --data")
    Path idxLabels;

    @Option(names = "--targets", defaultValue = "0", description = "CSV regression: the last K columns are targets (default: classification by the last column)")
    int targets;

    @Option(names = "--samples", defaultValue = "4000", description = "samples of a built-in task (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--turns", defaultValue = "1", description = "turns of each spiral for --task spirals (default: ${DEFAULT-VALUE})")
    int turns;

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

    @Option(names = "--held-out", defaultValue = "0.2", description = "fraction held out for evaluation (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--seed", defaultValue = "1", description = "(default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--save", description = "write the trained model here (safetensors)")
    Path save;

    @Option(names = "--report", description = "write the summary as JSON here")
    Path report;

    @Option(names = "--progress", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "progress bar on a terminal (default: on)")
    boolean progress;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter console = spec.commandLine().getOut();
        if (epochs < 1 || batch < 1 || blocks < 0 || width < 1 || !(heldOut > 0 && heldOut < 1)) {
            throw new IllegalArgumentException("--epochs, --batch and --width must be >= 1, --blocks >= 0, --held-out in (0, 1)");
        }
        // Before any work: a run that trains for an hour must not then fail to save, or save over its data.
        new FileArgs().in("--data", data).in("--idx-labels", idxLabels).out("--save", save).out("--report", report).check();
        // NaN fails every comparison: the negated forms refuse it too.
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("--dropout must be in [0, 1), got " + dropout);
        }
        if (dropoutEvery < 1) {
            throw new IllegalArgumentException("--dropout-every must be >= 1, got " + dropoutEvery);
        }
        int nThreads = Args.threads(threads);
        int stateCopies = Optimizers.stateCopies(optimizer);
        Activation f = Activation.parse(activation);
        Dataset all = DataOptions.load(task, data, idxLabels, targets, samples, seed, turns);
        Dataset.Split split = all.split(heldOut, seed);
        Dataset train = split.train();
        if (train.size() < batch) {
            throw new IllegalArgumentException("--batch " + batch + " is larger than the " + train.size() + " training samples");
        }
        Loss loss = all.isClassification() ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
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
        Network net = nb.dense(all.outputWidth(), Activation.IDENTITY).build(seed);
        Batcher batcher = new Batcher(train, batch, seed);
        long totalSteps = (long) epochs * batcher.stepsPerEpoch();
        if (totalSteps > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--epochs " + epochs + " of " + batcher.stepsPerEpoch() + " steps is "
                    + totalSteps + " steps, more than the " + Integer.MAX_VALUE + " a learning-rate schedule counts");
        }
        LearningRate rate = LearningRate.parse(schedule, lr, (int) totalSteps);
        boolean hf = optimizer.equalsIgnoreCase("hessian-free");
        Optimizer opt = hf ? null : Optimizers.create(optimizer, net, rate, momentum, weightDecay);
        long[] stateLengths = hf ? hessianFreeState(net) : opt.stateArrays().stream().mapToLong(a -> a.length).toArray();
        // Hessian-free runs curvature products: states are (a, R{a}) pairs, planned and checked as such.
        PlanSelection.Selection sel = PlanSelection.select(plan, net, batch, loss != Loss.MSE, stateLengths,
                hf ? StateModel.Mode.CURVATURE : StateModel.Mode.GRADIENT);
        HeapBudget.check(sel.plan().name(), sel.predicted());
        Plan chosen = sel.plan();
        if (hf && sel.microBatches() > 1) {
            throw new IllegalStateException("hessian-free does not split batches: " + sel.explanation());
        }

        console.printf("%s%n", net);
        console.printf("data: %d training, %d held-out samples; %s, %s, batch %d, %d epochs of %d steps%n",
                train.size(), split.heldOut().size(), loss.cliName(), hf ? "hessian-free" : opt, batch, epochs,
                batcher.stepsPerEpoch());
        console.printf("%s%n", sel.explanation());
        console.printf("memory: peak activations %s, total predicted %s of %s usable heap; %d forward evaluations per step"
                        + " (L = %d)%n%n", HeapBudget.human(sel.predicted().peakLiveBytes()),
                HeapBudget.human(sel.predicted().total()), HeapBudget.human(HeapBudget.usable()),
                chosen.stats().forwardEvaluations() * sel.microBatches(), net.depth());
        console.flush();

        boolean bar = progress && System.console() != null;
        Map<String, Object> summary = new LinkedHashMap<>();
        long t0 = System.nanoTime();
        double lastTrainLoss = Double.NaN;
        java.util.Set<Integer> warnedDead = new java.util.HashSet<>();
        Evaluation trainEval;
        Evaluation heldEval;
        RunStats stats;
        try (Trainer trainer = hf ? Trainer.hessianFree(net, loss, batcher, chosen, nThreads, HessianFree.Settings.defaults())
                : new Trainer(net, loss, batcher, opt, chosen, sel.microBatches(), sel.microBatchSize(), nThreads)) {
            long step = 0;
            for (int epoch = 1; epoch <= epochs; epoch++) {
                double sum = 0;
                long epochStart = System.nanoTime();
                for (int s = 0; s < batcher.stepsPerEpoch(); s++, step++) {
                    double value = trainer.step(step);
                    sum += value;
                    if (bar) {
                        double elapsed = (System.nanoTime() - t0) / 1e9;
                        double perStep = elapsed / (step + 1);
                        System.err.printf(Locale.ROOT, "\r%s epoch %d/%d step %d/%d loss %.4f %.0f samples/s ETA %s   ",
                                bar(step + 1, totalSteps), epoch, epochs, s + 1, batcher.stepsPerEpoch(), value,
                                batch / perStep, eta(perStep * (totalSteps - step - 1)));
                    }
                }
                lastTrainLoss = sum / batcher.stepsPerEpoch();
                if (trainer.gradients() != null) {
                    // One more gradient on the epoch's last batch, observed: a layer whose units all have
                    // f' = 0 stops backpropagation, and training cannot revive it.
                    // The executor holds one micro-batch when auto split the batch: diagnose the first slice.
                    dev.checkprop.nn.Batch last = batcher.batch(step - 1);
                    Diagnosis d = Diagnosis.run(trainer.executor(), sel.microBatches() > 1
                            ? last.slice(0, sel.microBatchSize()) : last, loss, trainer.gradients());
                    for (Diagnosis.Layer dead : d.deadLayers()) {
                        if (warnedDead.add(dead.layer())) {
                            console.printf("warning: layer %d (%s) died: all %d units have f' = 0 on a batch%s%n",
                                    dead.layer(), dead.description(), dead.width(),
                                    dead.kind().equals("residual")
                                            ? "; only its skip connection carries the gradient"
                                            : "; backpropagation stops there");
                        }
                    }
                }
                Evaluation he = Evaluation.of(trainer.executor(), split.heldOut(), loss);
                double secs = (System.nanoTime() - epochStart) / 1e9;
                if (bar) {
                    System.err.print("\r" + " ".repeat(110) + "\r");
                }
                console.printf(Locale.ROOT, "epoch %3d  train loss %.4f  held-out loss %.4f%s  %.1f s (%.0f samples/s)%n",
                        epoch, lastTrainLoss, he.loss(),
                        Double.isNaN(he.accuracy()) ? "" : String.format(Locale.ROOT, "  accuracy %.2f%%", 100 * he.accuracy()),
                        secs, batcher.stepsPerEpoch() * (double) batch / secs);
                console.flush();
            }
            trainEval = Evaluation.of(trainer.executor(), train, loss);
            heldEval = Evaluation.of(trainer.executor(), split.heldOut(), loss);
            stats = trainer.executor().lastRun();
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
                    ? split.heldOut().toBatch() : train.toBatch(), loss,
                    Double.isFinite(trainEval.loss()) ? heldEval.loss() : trainEval.loss());
        }
        if (save != null) {
            ModelFile.save(net, save);
        }
        console.printf(Locale.ROOT, "%ndone in %.1f s: plan %s, peak activations %s (executor counted %s payload),"
                        + " %d forward evaluations per step for %d layers%s%n",
                seconds, chosen.name(), HeapBudget.human(sel.predicted().peakLiveBytes()),
                HeapBudget.human(stats.peakActivationBytes()), stats.forwardEvaluations() * sel.microBatches(), net.depth(),
                sel.microBatches() > 1 ? " (" + sel.microBatches() + " micro-batches)" : "");
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
        summary.put("forward_evaluations_per_step", stats.forwardEvaluations() * sel.microBatches());
        summary.put("optimizer", hf ? "hessian-free" : opt.toString());
        summary.put("epochs", epochs);
        summary.put("seconds", seconds);
        summary.put("threads", nThreads);
        summary.put("train_loss", trainEval.loss());
        summary.put("train_accuracy", trainEval.accuracy());
        summary.put("held_out_loss", heldEval.loss());
        summary.put("held_out_accuracy", heldEval.accuracy());
        if (report != null) {
            Reports.write(summary, report);
        }
        return 0;
    }

    /** The Hessian-free optimizer's state: six gradient-shaped vectors and a parameter backup. */
    private static long[] hessianFreeState(Network net) {
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
}
