package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.nn.Curvature;
import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.hvp.Directions;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.memory.MemoryReport;
import dev.checkprop.nn.StateModel;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.io.ModelFile;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code hvp}: one Hessian-vector (or Gauss-Newton-vector) product of a saved model's mean loss on a
 * saved batch, along a saved direction, under a checkpoint plan. The direction and the product use
 * the model's tensor names ({@link DirectionFile}). Public, unlike the other commands, so that tests
 * outside this package can run it.
 */
@Command(name = "hvp", mixinStandardHelpOptions = true,
        description = "Compute H·v (or the Gauss-Newton G·v) of a model's loss on a batch under a checkpoint plan.")
public final class HvpCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--data", required = true, description = "data safetensors file (x, and y or labels)")
    Path data;

    @Option(names = "--loss", required = true, description = "mse, mse-mean (torch.nn.MSELoss) or softmax-ce")
    String loss;

    @Option(names = "--vector", required = true, description = "direction v: safetensors file with the model's tensor names")
    Path vector;

    @Option(names = "--plan", defaultValue = "full", description = "full | uniform:K | sqrt | binomial:S | optimal:M | budget:BYTES;"
            + " a budget counts each layer's state as the pair (a, R{a}), twice an activation (default: ${DEFAULT-VALUE})")
    String plan;

    @Option(names = "--out", required = true, description = "product safetensors file to write (the model's tensor names)")
    Path out;

    @Option(names = "--gauss-newton", description = "the Gauss-Newton product G·v = Jᵀ H_loss J v instead of H·v")
    boolean gaussNewton;

    @Option(names = "--report", description = "JSON report file to write")
    Path report;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--spill-dir", description = Args.SPILL_DIR_HELP)
    java.nio.file.Path spillDir;

    @Option(names = "--jol", description = "measure every memory category with JOL at the plan's peak (slow: seconds)")
    boolean jol;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        java.io.PrintWriter console = spec.commandLine().getOut();
        new FileArgs().in("--model", model).in("--data", data).in("--vector", vector).out("--out", out)
                .out("--report", report).check();
        int nThreads = Args.threads(threads);
        java.nio.file.Path spill = Args.spillDir(spillDir);
        // The direction is read, then copied into parameter-shaped arrays: twice its size at its peak.
        Args.filesFit(new String[] {"--model", "--data", "--vector"}, new Path[] {model, data, vector}, new int[] {1, 1, 2});
        Loss lossFn = Loss.parse(loss);
        Network net = ModelFile.load(model);
        Batch batch = Inputs.batchFor(net, model, data, lossFn);
        Map<String, String> conversions = Conversions.note(console, model, data);
        Gradients v = DirectionFile.read(vector, net);
        // States are (a, R{a}) pairs here: budgets, predictions and the heap check are in curvature mode.
        PlanSelection.Selection sel = PlanSelection.select(plan, net, batch.size(), batch.labels() != null, new long[0],
                StateModel.Mode.CURVATURE, nThreads, spill);
        Plan p = sel.plan();
        if (plan.trim().equalsIgnoreCase("auto") && sel.microBatches() > 1) {
            throw new IllegalArgumentException("hvp does not split batches: " + sel.explanation());
        }
        // Before the executor and the three parameter-shaped outputs exist: v, g and Hv, the plan's
        // (a, R{a}) buffers and the executor's workspace for both a and R{a}.
        double need = sel.predicted().total() - sel.predicted().bytes(dev.checkprop.memory.MemoryCategory.BATCH);
        dev.checkprop.memory.Preflight.heap("hvp with plan " + p.name() + ": parameters, direction, gradient, product,"
                + " the plan's (a, R{a}) states and workspace", need,
                "use a plan that keeps fewer states (sqrt, binomial:S, budget:BYTES) or a larger -Xmx");
        Curvature curvature = gaussNewton ? Curvature.GAUSS_NEWTON : Curvature.HESSIAN;
        Gradients g = Gradients.zerosLike(net);
        Gradients hv = Gradients.zerosLike(net);
        double value;
        double seconds;
        RunStats run;
        String kernel;
        MemoryReport memory;
        final long directBefore = dev.checkprop.tier.DirectMemory.used();
        long directDelta;
        long spillFileBytes = 0;
        try (Executor ex = Executor.forHessianProducts(net, p, batch.size(), Kernels.get(), nThreads, spill)) {
            directDelta = dev.checkprop.tier.DirectMemory.used() - directBefore;
            if (ex.tiers() != null && ex.tiers().spillFile() != null) {
                spillFileBytes = java.nio.file.Files.size(ex.tiers().spillFile());
            }
            long t0 = System.nanoTime();
            value = ex.hessianVector(batch, lossFn, v, g, hv, curvature);
            seconds = (System.nanoTime() - t0) / 1e9;
            run = ex.lastRun();
            kernel = ex.kernels().name();
            memory = jol ? MemoryReport.measureCurvature(ex, batch, lossFn, v, Gradients.zerosLike(net),
                    Gradients.zerosLike(net), curvature) : MemoryReport.predicted(ex, batch.labels() != null, new long[0]);
        }
        double vHv = Directions.dot(v, hv);
        DirectionFile.write(net, hv, Map.of("loss", Double.toString(value), "product", curvature.label(),
                "v_dot_product", Double.toString(vHv)), out);

        Map<String, Object> r = new LinkedHashMap<>();
        if (!conversions.isEmpty()) {
            r.put("conversions", conversions);
        }
        r.put("plan", p.name());
        r.put("product", curvature.label());
        r.put("layers", net.depth());
        r.put("batch", batch.size());
        r.put("loss_function", lossFn.cliName());
        r.put("loss", value);
        r.put("v_norm", Directions.norm(v));
        r.put("product_norm", Directions.norm(hv));
        r.put("gradient_norm", Directions.norm(g));
        r.put("v_dot_product", vHv);
        r.put("forward_evaluations", run.forwardEvaluations());
        r.put("peak_live_buffers", run.peakLiveBuffers());
        r.put("peak_state_bytes", run.peakActivationBytes());
        r.put("state_bytes_full_storage", fullStorageStateBytes(net, batch.size()));
        r.put("seconds", seconds);
        r.put("threads", nThreads);
        r.put("kernel", kernel);
        r.put("memory", memory.toMap());
        if (p.usesTiers()) {
            r.put("tiers", Reports.tiers(run, sel.predicted().tiers(), directDelta, spillFileBytes, spill));
        }
        if (report != null) {
            Reports.write(r, report);
        }
        console.printf("%s: %s, loss %.6g, v·%s %.6g, %d forward evaluations (L = %d), peak %d live states = %s,"
                        + " %.4f s (%s kernels, %d threads)%n",
                p.name(), curvature == Curvature.HESSIAN ? "H·v" : "G·v", value, curvature == Curvature.HESSIAN ? "Hv" : "Gv",
                vHv, run.forwardEvaluations(), net.depth(), run.peakLiveBuffers(), dev.checkprop.plan.Planners.humanBytes(run.peakActivationBytes()),
                seconds, kernel, nThreads);
        if (p.usesTiers()) {
            console.println(Reports.tierLine(run, sel.predicted().tiers(), directDelta, spillFileBytes));
        }
        if (jol) {
            console.print(memory.toTable());
            if (!memory.consistent()) {
                console.printf("warning: JOL's measurement differs from the prediction%n");
            }
        }
        return 0;
    }

    /**
     * The bytes, array headers included, of every layer's (a, R{a}) state at once: what full storage
     * holds at its peak in this mode, the scale against which a plan's peak is to be read.
     */
    private static long fullStorageStateBytes(Network net, int batch) {
        return MemoryModel.chain(net, batch, StateModel.Mode.CURVATURE, ArrayLayout.current()).totalBytes();
    }
}
