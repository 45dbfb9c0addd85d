package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.io.ModelFile;
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

/** {@code grad}: one gradient of a saved model on a saved batch, under a plan. */
@Command(name = "grad", mixinStandardHelpOptions = true,
        description = "Compute the loss gradient of a model on a batch under a checkpoint plan.")
final class GradCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, description = "model safetensors file")
    Path model;

    @Option(names = "--data", required = true, description = "data safetensors file (x, and y or labels)")
    Path data;

    @Option(names = "--loss", required = true, description = "mse or softmax-ce")
    String loss;

    @Option(names = "--plan", defaultValue = "full", description = "full | uniform:K | sqrt | binomial:S | optimal:M (default: ${DEFAULT-VALUE})")
    String plan;

    @Option(names = "--out", required = true, description = "gradient safetensors file to write")
    Path out;

    @Option(names = "--report", description = "JSON report file to write")
    Path report;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        java.io.PrintWriter console = spec.commandLine().getOut();
        Loss lossFn = Loss.parse(loss);
        var planner = Planners.parse(plan);
        Network net = ModelFile.load(model);
        Batch batch = ModelFile.loadData(data, lossFn);
        lossFn.checkCompatible(net, batch);
        if (batch.inputWidth() != net.inputWidth()) {
            throw new IllegalArgumentException(data + ": x has width " + batch.inputWidth() + " but " + model
                    + " takes inputs of width " + net.inputWidth());
        }
        long t0 = System.nanoTime();
        Plan p = planner.plan(net.depth());
        double planSeconds = (System.nanoTime() - t0) / 1e9;
        Executor ex = new Executor(net, p, batch.size());
        Gradients g = Gradients.zerosLike(net);
        long t1 = System.nanoTime();
        double value = ex.gradient(batch, lossFn, g);
        double seconds = (System.nanoTime() - t1) / 1e9;
        RunStats run = ex.lastRun();
        ModelFile.gradientsToSafeTensors(net, g, value).write(out);

        Map<String, Object> r = new LinkedHashMap<>();
        r.put("plan", p.name());
        r.put("layers", net.depth());
        r.put("batch", batch.size());
        r.put("loss_function", lossFn.cliName());
        r.put("loss", value);
        r.put("forward_evaluations", run.forwardEvaluations());
        r.put("peak_live_buffers", run.peakLiveBuffers());
        r.put("peak_activation_bytes", run.peakActivationBytes());
        r.put("plan_actions", p.size());
        r.put("planning_seconds", planSeconds);
        r.put("seconds", seconds);
        r.put("kernel", ex.kernels().name());
        if (report != null) {
            Reports.write(r, report);
        }
        console.printf("%s: loss %.6g, %d forward evaluations (L = %d), peak %d live buffers = %s, %.3f s%n",
                p.name(), value, run.forwardEvaluations(), net.depth(), run.peakLiveBuffers(),
                Bytes.format(run.peakActivationBytes()), seconds);
        return 0;
    }
}
