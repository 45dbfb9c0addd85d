package dev.checkprop.cli;

import dev.checkprop.data.Dataset;
import dev.checkprop.exec.Executor;
import dev.checkprop.io.ModelFile;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import dev.checkprop.train.Evaluation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code eval}: loss and accuracy of a saved model on a dataset. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Loss and accuracy of a saved model on a dataset.")
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--task", description = "built-in data: spirals | teacher")
    String task;

    @Option(names = "--data", description = "data file (.safetensors, .csv, or IDX images with --idx-labels)")
    Path data;

    @Option(names = "--idx-labels", description = "IDX labels file")
    Path idxLabels;

    @Option(names = "--targets", defaultValue = "0", description = "CSV regression targets (last K columns)")
    int targets;

    @Option(names = "--samples", defaultValue = DataOptions.DEFAULT_SAMPLES, description = "samples of a built-in task, as train (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--turns", defaultValue = DataOptions.DEFAULT_TURNS, description = "turns of each spiral for --task spirals, as train (default: ${DEFAULT-VALUE})")
    int turns;

    @Option(names = "--seed", defaultValue = "1", description = "seed of a built-in task and of the split, as train's --seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--split", description = "all | train | held-out: the samples to evaluate, split as train splits them"
            + " (default: held-out for a --task, all for --data)")
    String split;

    @Option(names = "--held-out", defaultValue = DataOptions.DEFAULT_HELD_OUT, description = "the fraction train held out, for --split (default: ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--batch", defaultValue = "256", description = "evaluation chunk size")
    int batch;

    @Option(names = "--report", description = "write the result as JSON here")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        new FileArgs().in("--model", model).in("--data", data).in("--idx-labels", idxLabels).out("--report", report).check();
        Network net = ModelFile.load(model);
        Dataset all = DataOptions.load(task, data, idxLabels, targets, samples, seed, turns);
        Map<String, String> conversions = Conversions.note(spec.commandLine().getOut(), model, data);
        // A built-in task is generated whole: its held-out split is what train evaluated on.
        String part = split != null ? split : data == null ? "held-out" : "all";
        Dataset ds = DataOptions.part(all, part, heldOut, seed);
        if (ds.inputWidth() != net.inputWidth() || ds.outputWidth() != net.outputWidth()) {
            throw new IllegalArgumentException(DataOptions.describe(task, data)
                    + " has inputs of width " + ds.inputWidth() + " and " + ds.outputWidth() + " outputs; " + model
                    + " takes " + net.inputWidth() + " and gives " + net.outputWidth());
        }
        Loss loss = ds.isClassification() ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
        Evaluation e;
        // Inference needs no stored activations: the smallest plan keeps the executor's pool to two buffers.
        String smallest = net.depth() == 1 ? "full" : "optimal:2";
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be >= 1, got " + batch);
        }
        int chunk = Math.max(1, Math.min(batch, ds.size()));
        dev.checkprop.plan.Plan inference = Planners.parse(smallest).plan(net.depth());
        dev.checkprop.memory.HeapBudget.check(inference.name() + " (evaluation in chunks of --batch " + chunk + ")",
                dev.checkprop.memory.MemoryModel.predict(net, inference, chunk, ds.isClassification(), new long[0],
                        dev.checkprop.memory.ArrayLayout.current().heapFootprint()));
        try (Executor ex = new Executor(net, inference, chunk, Kernels.get(), Args.threads(threads))) {
            e = Evaluation.of(ex, ds, loss);
        }
        if (!Double.isFinite(e.loss())) {
            throw dev.checkprop.exec.NonFiniteException.forLoss(net, ds.toBatch(), loss, e.loss());
        }
        spec.commandLine().getOut().printf(Locale.ROOT, "%d samples (%s of %s): loss %.6f%s%n", e.samples(),
                part.equalsIgnoreCase("all") ? "all" : part.toLowerCase(Locale.ROOT) + " split", DataOptions.describe(task, data), e.loss(),
                Double.isNaN(e.accuracy()) ? "" : String.format(Locale.ROOT, ", accuracy %.2f%%", 100 * e.accuracy()));
        if (report != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            if (!conversions.isEmpty()) {
                r.put("conversions", conversions);
            }
            r.put("samples", e.samples());
            r.put("split", part.toLowerCase(Locale.ROOT));
            r.put("loss_function", loss.cliName());
            r.put("loss", e.loss());
            r.put("accuracy", e.accuracy());
            Reports.write(r, report);
        }
        return 0;
    }
}
