package dev.checkprop.cli;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code demo}: one deep network's gradient under several plans, side by side: evaluations, peak
 * activation memory, time, and whether the gradients are bit-identical to full storage.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Gradient of a deep tanh network under several plans, side by side.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--layers", defaultValue = "512", description = "depth L (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--width", defaultValue = "128", description = "width of every layer (default: ${DEFAULT-VALUE})")
    int width;

    @Option(names = "--batch", defaultValue = "256",
            description = "batch size; activations outweigh parameters only when batch >= width (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--plans", split = ",", defaultValue = "full,uniform:16,sqrt,binomial:8,optimal:12",
            description = "comma-separated plans (default: ${DEFAULT-VALUE})")
    List<String> plans;

    @Option(names = "--threads", description = "threads (default: all cores)")
    Integer threads;

    @Option(names = "--seed", defaultValue = "42", description = "initialisation and data seed (default: ${DEFAULT-VALUE})")
    long seed;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        java.io.PrintWriter console = spec.commandLine().getOut();
        if (layers < 1 || width < 1 || batch < 1) {
            throw new IllegalArgumentException("--layers, --width and --batch must be >= 1");
        }
        if (plans.isEmpty() || plans.stream().anyMatch(String::isBlank)) {
            throw new IllegalArgumentException("--plans names " + (plans.isEmpty() ? "no plan" : "an empty plan")
                    + " (expected plans separated by commas, e.g. full,sqrt,binomial:8)");
        }
        plans.forEach(Planners::parse); // every plan name is checked before the network is built
        int nThreads = Args.threads(threads);
        // Weights, the reference gradient and the current one; then x and y.
        dev.checkprop.memory.Preflight.chain("--layers " + layers + " --width " + width, width, width, Math.max(0, layers - 2L), width, 3);
        dev.checkprop.memory.Preflight.dataset("--batch " + batch + " --width " + width, batch, 2L * width, 1);
        Network net = Network.builder(width).dense(layers, width, Activation.TANH).build(seed);
        float[] x = new float[batch * width];
        float[] y = new float[batch * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(seed, -1, i) - 1f;
            y[i] = 2f * Seeds.uniform(seed, -2, i) - 1f;
        }
        Batch data = Batch.regression(x, width, y, width);
        console.printf("%s, batch %d%n", net, batch);
        console.printf("parameters %s, gradients %s; full storage of activations %s%n%n",
                dev.checkprop.plan.Planners.humanBytes(4 * net.parameterCount()), dev.checkprop.plan.Planners.humanBytes(4 * net.parameterCount()),
                dev.checkprop.plan.Planners.humanBytes(4L * layers * width * batch));
        console.printf("%-14s %12s %10s %12s %12s %9s %10s  %s%n", "plan", "evaluations", "per layer",
                "peak buffers", "peak bytes", "seconds", "vs full", "gradients");
        Gradients reference = null;
        double fullSeconds = Double.NaN;
        for (String spec : plans) {
            // budget: and auto are planned for this network and batch, like every other command's --plan.
            Plan p = dev.checkprop.select.PlanSelection.select(spec, net, batch).plan();
            try {
                dev.checkprop.memory.HeapBudget.check(p.name(), dev.checkprop.memory.MemoryModel.predict(net, p, batch, false,
                        new long[0], dev.checkprop.memory.ArrayLayout.current().heapFootprint()));
            } catch (IllegalStateException e) {
                throw new IllegalStateException("--plans " + spec + ": " + e.getMessage()
                        + " (leave it out of --plans, or use a smaller --batch)", e);
            }
            Gradients g = Gradients.zerosLike(net);
            double seconds;
            RunStats r;
            try (Executor ex = new Executor(net, p, batch, Kernels.get(), nThreads)) {
                ex.gradient(data, Loss.MSE, g); // warm-up: JIT and first touch of the buffers
                long t0 = System.nanoTime();
                ex.gradient(data, Loss.MSE, g);
                seconds = (System.nanoTime() - t0) / 1e9;
                r = ex.lastRun();
            }
            String same;
            if (reference == null) {
                reference = g;
                same = "(reference)";
                fullSeconds = seconds;
            } else {
                same = g.bitEquals(reference) ? "bit-identical" : "DIFFERENT";
            }
            console.printf("%-14s %12d %10.2f %12d %12s %9.3f %9.2fx  %s%n", p.name(), r.forwardEvaluations(),
                    (double) r.forwardEvaluations() / layers, r.peakLiveBuffers(), dev.checkprop.plan.Planners.humanBytes(r.peakActivationBytes()),
                    seconds, seconds / fullSeconds, same);
        }
        console.println();
        console.println("kernel: " + Kernels.get().name() + ", threads: " + nThreads + ", java " + Runtime.version());
        return 0;
    }
}
