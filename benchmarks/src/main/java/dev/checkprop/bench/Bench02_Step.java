package dev.checkprop.bench;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Planners;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/*
 * One gradient computation (forward, loss, backward) per plan: the time side of the memory/time
 * trade-off. Every plan runs through the same executor and kernels, so the only difference between
 * rows is the plan's recomputation.
 *
 * Sizes: batch >= width, so that activations (L * batch * width floats) outweigh the parameters
 * (L * width^2) — the regime in which checkpointing is worth anything.
 *
 * The auxiliary counters publish what the executor counted on the last step: forward evaluations
 * and peak activation bytes, so that a row of the result carries its memory next to its time.
 *
 * HOW TO RUN THIS TEST:
 *   java -jar benchmarks/target/benchmarks.jar Bench02_Step -prof gc
 *   (gc.alloc.rate.norm shows the bytes allocated per step: the goal is ~0)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
public class Bench02_Step {

    @Param({"full", "uniform:16", "sqrt", "binomial:8", "optimal:16"})
    public String plan;

    @Param({"256"})
    public int layers;

    @Param({"128"})
    public int width;

    @Param({"256"})
    public int batch;

    private Executor executor;
    private Batch data;
    private Gradients gradients;

    /** Published per iteration: what the last step counted. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counts {
        public long forwardEvaluations;
        public long peakActivationBytes;

        @Setup(Level.Iteration)
        public void clear() {
            forwardEvaluations = 0;
            peakActivationBytes = 0;
        }
    }

    @Setup(Level.Trial)
    public void setup() {
        Network net = Network.builder(width).dense(layers, width, Activation.TANH).build(42);
        float[] x = new float[batch * width];
        float[] y = new float[batch * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(7, 1, i) - 1f;
            y[i] = 2f * Seeds.uniform(7, 2, i) - 1f;
        }
        data = Batch.regression(x, width, y, width);
        executor = new Executor(net, Planners.parse(plan).plan(layers), batch);
        gradients = Gradients.zerosLike(net);
    }

    @Benchmark
    public double step(Counts counts) {
        double loss = executor.gradient(data, Loss.MSE, gradients);
        counts.forwardEvaluations = executor.lastForwardEvaluations();
        counts.peakActivationBytes = executor.lastPeakActivationBytes();
        return loss;
    }
}
