package dev.checkprop.cli;

import dev.checkprop.plan.Plan;
import dev.checkprop.plan.PlanStats;
import dev.checkprop.plan.Planners;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code plan}: make a plan for L layers and print its counts, and optionally its actions. */
@Command(name = "plan", mixinStandardHelpOptions = true,
        description = "Print a checkpoint plan's counts (and actions) without running anything.")
final class PlanCommand implements Callable<Integer> {

    @Option(names = "--layers", required = true, description = "number of layers L")
    int layers;

    @Option(names = "--plan", required = true,
            description = "full | uniform:K | sqrt | binomial:S | optimal:M | budget:BYTES (budget needs --width and --batch)")
    String plan;

    @Option(names = "--width", description = "layer width, to size activations for budget:BYTES")
    Integer width;

    @Option(names = "--batch", description = "batch size, to size activations for budget:BYTES")
    Integer batch;

    @Option(names = "--actions", description = "also print the actions, one line, in the text form")
    boolean actions;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter console = spec.commandLine().getOut();
        if (layers < 1) {
            throw new IllegalArgumentException("--layers must be >= 1, got " + layers);
        }
        var planner = Planners.parse(plan);
        boolean budget = plan.trim().toLowerCase(java.util.Locale.ROOT).startsWith("budget:");
        if (budget && (width == null || batch == null || width < 1 || batch < 1)) {
            throw new IllegalArgumentException("budget plans need --width and --batch (>= 1) to size each activation buffer");
        }
        long t0 = System.nanoTime();
        Plan p;
        if (budget) {
            dev.checkprop.memory.Preflight.arrayLength("--width " + width + " x --batch " + batch + ": one activation",
                    (long) width * batch);
            // The chain holds a size and a cost per layer before the planner starts.
            dev.checkprop.memory.Preflight.heap("--layers " + layers + ": the chain of sizes and costs", 16.0 * layers);
            long bytes = dev.checkprop.memory.ArrayLayout.current().floatArray((long) width * batch);
            p = planner.plan(dev.checkprop.plan.Chain.uniform(layers, bytes, 2L * batch * width * width));
        } else {
            p = planner.plan(layers);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        PlanStats s = p.stats();
        console.printf("plan               %s%n", p.name());
        console.printf("layers             %d%n", p.layers());
        console.printf("actions            %d%n", p.size());
        console.printf("forward evals      %d (%.3f per layer, %d recomputed)%n", s.forwardEvaluations(),
                (double) s.forwardEvaluations() / layers, s.recomputations());
        console.printf("peak live buffers  %d (at action #%d)%n", s.peakLiveBuffers(), s.peakAction());
        console.printf("planning seconds   %.4f%n", seconds);
        if (actions) {
            console.println(p.actionsText());
        }
        return 0;
    }
}
