package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.io.ModelFile;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.memory.MemoryReport;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.exec.MicroBatches;
import dev.checkprop.exec.Shards;
import dev.checkprop.train.ShardedGradient;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code grad}: one gradient of a saved model on a saved batch, under a plan. */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Compute the loss gradient of a model on a batch under a checkpoint plan.")
final class GradCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--data", required = true, description = "data: .safetensors (x, and y or labels), .csv (last column ="
            + " label, or --targets), or an IDX images file with --idx-labels")
    Path data;

    @Option(names = "--idx-labels", description = "IDX labels file, with an IDX images file as --data")
    Path idxLabels;

    @Option(names = "--targets", defaultValue = "0", description = "CSV regression: the last K columns are targets"
            + " (default: classification by the last column)")
    int targets;

    @Option(names = "--loss", required = true, description = "mse, mse-mean (torch.nn.MSELoss) or softmax-ce")
    String loss;

    @Option(names = "--plan", defaultValue = "full",
            description = "full | uniform:K | sqrt | binomial:S | optimal:M | budget:BYTES | tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES] | auto (default: ${DEFAULT-VALUE})")
    String plan;

    @Option(names = "--out", required = true, description = "gradient safetensors file to write")
    Path out;

    @Option(names = "--report", description = "JSON report file to write")
    Path report;

    @Option(names = "--jol", description = "measure every memory category with JOL at the plan's peak (slow: seconds)")
    boolean jol;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--spill-dir", description = Args.SPILL_DIR_HELP)
    Path spillDir;

    @Option(names = "--repeat", defaultValue = "1", description = "timed steps (default: ${DEFAULT-VALUE})")
    int repeat;

    @Option(names = "--warmup", defaultValue = "0", description = "untimed steps before them (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--shards", description = "split the batch into K contiguous row ranges, each run whole under its own"
            + " plan and combined in shard order: the bits a Spark run with K partitions gives (see docs/spark.md)")
    Integer shards;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** Input files whose tensors were converted to F32, for the report. */
    private Map<String, String> conversions = Map.of();

    @Override
    public Integer call() throws Exception {
        java.io.PrintWriter console = spec.commandLine().getOut();
        new FileArgs().in("--model", model).in("--data", data).in("--idx-labels", idxLabels).out("--out", out)
                .out("--report", report).check();
        Args.repeat(repeat, warmup);
        int nThreads = Args.threads(threads);
        Path spill = Args.spillDir(spillDir);
        Args.filesFit(new String[] {"--model", "--data"}, new Path[] {model, data}, new int[] {1, 1});
        Loss lossFn = Loss.parse(loss);
        Network net = ModelFile.load(model);
        Batch batch = Inputs.batchFor(net, model, data, idxLabels, targets, lossFn);
        conversions = Conversions.note(console, model, data);
        if (shards != null) {
            return sharded(console, net, batch, lossFn, nThreads, spill);
        }
        long t0 = System.nanoTime();
        PlanSelection.Selection sel = PlanSelection.select(plan, net, batch.size(), batch.labels() != null, new long[0],
                dev.checkprop.nn.StateModel.Mode.GRADIENT, nThreads, spill);
        Plan p = sel.plan();
        double planSeconds = (System.nanoTime() - t0) / 1e9;
        MemoryModel.Prediction predicted = sel.predicted();
        console.printf("%s; predicted peak activations %s, total %s; %d forward evaluations for %d layers (%d recomputed)%s%n",
                sel.explanation(), HeapBudget.human(predicted.peakLiveBytes()), HeapBudget.human(predicted.total()),
                p.stats().forwardEvaluations() * sel.microBatches(), net.depth(),
                p.stats().forwardEvaluations() * sel.microBatches() - net.depth(),
                sel.microBatches() > 1 ? ", " + sel.microBatches() + " micro-batches" : "");
        console.flush();
        HeapBudget.check(p.name(), predicted);
        Gradients g = Gradients.zerosLike(net);
        MemoryReport memory;
        double value = 0;
        double[] stepSeconds = new double[repeat];
        RunStats run;
        String kernel;
        long built = System.nanoTime();
        double executorSeconds;
        String tiles;
        boolean flushes;
        final long directBefore = dev.checkprop.tier.DirectMemory.used();
        long directDelta;
        long spillFileBytes = 0;
        try (Executor ex = new Executor(net, p, sel.microBatchSize(), Kernels.get(), nThreads, spill)) {
            executorSeconds = (System.nanoTime() - built) / 1e9;
            // What the tiers took, measured by the JVM's direct-buffer pool and the file system.
            directDelta = dev.checkprop.tier.DirectMemory.used() - directBefore;
            if (ex.tiers() != null && ex.tiers().spillFile() != null) {
                spillFileBytes = java.nio.file.Files.size(ex.tiers().spillFile());
            }
            MicroBatches mb = new MicroBatches(ex, sel.microBatches());
            for (int w = 0; w < warmup; w++) {
                mb.gradient(batch, lossFn, g);
            }
            for (int rep = 0; rep < repeat; rep++) {
                long t1 = System.nanoTime();
                value = mb.gradient(batch, lossFn, g);
                stepSeconds[rep] = (System.nanoTime() - t1) / 1e9;
            }
            run = ex.lastRun();
            kernel = ex.kernels().name();
            tiles = ex.kernels().tiles();
            flushes = ex.kernels().flushesSubnormals();
            Batch measured = sel.microBatches() > 1 ? batch.slice(0, sel.microBatchSize()) : batch;
            memory = jol ? MemoryReport.measure(ex, measured, lossFn, Gradients.zerosLike(net), List.of())
                    : MemoryReport.predicted(ex, batch.labels() != null, new long[0]);
        }
        double seconds = stepSeconds[0];
        double[] sorted = stepSeconds.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        ModelFile.saveGradients(net, g, value, out);

        Map<String, Object> r = new LinkedHashMap<>();
        if (!conversions.isEmpty()) {
            r.put("conversions", conversions);
        }
        r.put("plan", p.name());
        r.put("layers", net.depth());
        r.put("batch", batch.size());
        r.put("loss_function", lossFn.cliName());
        r.put("loss", value);
        r.put("forward_evaluations", run.forwardEvaluations() * sel.microBatches());
        r.put("micro_batches", sel.microBatches());
        if (sel.budgetBytes() >= 0) {
            r.put("budget_bytes", sel.budgetBytes());
        }
        r.put("peak_live_buffers", run.peakLiveBuffers());
        r.put("peak_activation_bytes", run.peakActivationBytes());
        r.put("forward_flops", predicted.forwardFlops() * sel.microBatches());
        r.put("plan_actions", p.size());
        r.put("planning_seconds", planSeconds);
        r.put("seconds", seconds);
        // The executor's construction includes the JIT warm-up (Executor, WarmUp), which is why
        // the first step is not a measure of the compiler.
        r.put("executor_seconds", executorSeconds);
        r.put("seconds_first_step", seconds);
        r.put("seconds_per_step", stepSeconds);
        r.put("seconds_per_step_median", median);
        r.put("seconds_per_step_min", sorted[0]);
        r.put("repeat", repeat);
        r.put("warmup", warmup);
        r.put("threads", nThreads);
        r.put("kernel", kernel);
        r.put("tiles", tiles);
        r.put("subnormals", flushes ? "flushed to zero" : "kept (strict IEEE 754)");
        r.put("memory", memory.toMap());
        if (p.usesTiers()) {
            r.put("tiers", Reports.tiers(run, predicted.tiers(), directDelta, spillFileBytes, spill));
        }
        if (report != null) {
            Reports.write(r, report);
        }
        console.printf("%s: loss %.6g, %d forward evaluations (L = %d), peak %d live buffers = %s, %.4f s per step"
                        + " (median of %d; %s kernels, %d threads)%n",
                p.name(), value, run.forwardEvaluations() * sel.microBatches(), net.depth(), run.peakLiveBuffers(),
                dev.checkprop.plan.Planners.humanBytes(run.peakActivationBytes()), median, repeat, kernel, nThreads);
        if (p.usesTiers()) {
            console.println(Reports.tierLine(run, predicted.tiers(), directDelta, spillFileBytes));
        }
        if (repeat > 1) {
            console.printf("first step %.4f s (%.2fx the median); executor built in %.2f s, JIT warm-up included%n",
                    seconds, seconds / median, executorSeconds);
        }
        if (jol) {
            console.print(memory.toTable());
            if (!memory.consistent()) {
                throw new IllegalStateException("JOL measured different bytes than the plan predicts (see the table above)");
            }
        }
        return 0;
    }

    /** {@code --shards K}: {@link ShardedGradient#gradient}, the same bits as the Spark module's K partitions. */
    private int sharded(java.io.PrintWriter console, Network net, Batch batch, Loss lossFn, int nThreads, Path spill)
            throws Exception {
        if (shards < 1) {
            throw new IllegalArgumentException("--shards must be >= 1, got " + shards);
        }
        if (jol) {
            throw new IllegalArgumentException("--jol measures one executor; it does not apply with --shards");
        }
        final int n = batch.size();
        final int count = Shards.count(n, shards);
        // Plan the largest shard up front: the line the user sees, and a refusal before any work.
        PlanSelection.Selection first = ShardedGradient.select(plan, net, Shards.to(n, shards, 0), batch.labels() != null,
                new long[0], dev.checkprop.nn.StateModel.Mode.GRADIENT, HeapBudget.usable(),
                ShardedGradient.name(0, shards, 0, Shards.to(n, shards, 0), data.toString()), nThreads, spill);
        console.printf("%d shards of at most %d rows (%d non-empty); shard 0: %s%n", shards, Shards.size(n, shards), count,
                first.explanation());
        console.flush();
        Gradients g = Gradients.zerosLike(net);
        double value = 0;
        double[] stepSeconds = new double[repeat];
        for (int w = 0; w < warmup; w++) {
            ShardedGradient.gradient(net, batch, lossFn, plan, shards, nThreads, 0, data.toString(), g, spill);
        }
        for (int rep = 0; rep < repeat; rep++) {
            long t1 = System.nanoTime();
            value = ShardedGradient.gradient(net, batch, lossFn, plan, shards, nThreads, 0, data.toString(), g, spill);
            stepSeconds[rep] = (System.nanoTime() - t1) / 1e9;
        }
        double[] sorted = stepSeconds.clone();
        java.util.Arrays.sort(sorted);
        double median = sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
        ModelFile.saveGradients(net, g, value, out);
        Map<String, Object> r = new LinkedHashMap<>();
        if (!conversions.isEmpty()) {
            r.put("conversions", conversions);
        }
        r.put("plan", plan);
        r.put("shard_plan", first.plan().name());
        r.put("layers", net.depth());
        r.put("batch", n);
        r.put("shards", shards);
        r.put("shard_rows", Shards.size(n, shards));
        r.put("loss_function", lossFn.cliName());
        r.put("loss", value);
        r.put("seconds", stepSeconds[0]);
        r.put("seconds_per_step", stepSeconds);
        r.put("seconds_per_step_median", median);
        r.put("repeat", repeat);
        r.put("warmup", warmup);
        r.put("threads", nThreads);
        if (report != null) {
            Reports.write(r, report);
        }
        console.printf("%d shards: loss %.6g, %.4f s per step (median of %d, executors built per step; %d threads)%n",
                shards, value, median, repeat, nThreads);
        return 0;
    }
}
