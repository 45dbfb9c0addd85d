package dev.checkprop.bench;

import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.PlanStats;
import dev.checkprop.plan.Planners;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.select.PlanSelection;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.util.concurrent.TimeUnit;

/*
 * One training step — forward, loss, backward — per plan: the time side of the memory/time
 * trade-off. Every plan runs through the same executor and the same kernels, so the only difference
 * between two rows of one depth is the plan's recomputation.
 *
 * Sizes. A tanh chain of `layers` dense layers of `width` units, a batch of `batch` samples, MSE
 * loss. batch >= width, so that the activations (L * batch * width floats) outweigh the parameters
 * (L * width^2): the regime in which checkpointing is worth anything. The default sweep is
 * 3 depths x 8 plans = 24 forks of (4 x 2 s warm-up + 5 x 3 s measurement): about 13-15 minutes on
 * 2 cores (a step at L = 1024 takes from ~1 s for full storage to ~2.5 s for binomial:8, and an
 * iteration ends with its last step). The warm-up is long because Vector API code runs orders of
 * magnitude slower until C2 has compiled it.
 *
 * Plans. The plan list is one @Param for every depth, so its arguments may be RELATIVE to the
 * network and are resolved in @Setup (PlanSpec): `L/4` is L divided by 4, `2sqrtL` is
 * 2 * ceil(sqrt(L)), `fullBytes/8` an eighth of full storage's activation bytes (for a byte-budget
 * planner); a plain number is used as it is. This keeps every string valid at every depth
 * (optimal:M needs M >= 2) and puts each planner at comparable memory at every depth:
 *   full                 L buffers, L evaluations: the reference
 *   uniform:L/2          about L/2 buffers, ~1.5 L evaluations
 *   uniform:L/4          about L/4 buffers, ~1.75 L evaluations
 *   sqrt                 about 2 sqrt(L) buffers, < 2 L evaluations
 *   optimal:2sqrtL       the same memory as sqrt, fewest evaluations for it
 *   binomial:2sqrtL      Revolve at about the same memory (S + 1 buffers)
 *   optimal:8            a small constant memory, fewest evaluations for it
 *   binomial:8           Revolve at about that memory (9 buffers)
 * Any library plan string works with -p plan=..., e.g. -p plan=full,optimal:12 (and, once the library
 * has a byte-budget planner, budget:fullBytes/8).
 *
 * Threads. `threads` is the executor's team (the caller plus threads - 1 workers): `all` = every
 * core the JVM sees. JMH itself runs one benchmark thread; do not pass -t (the counters below would
 * be summed over JMH threads).
 *
 * Counters. @AuxCounters publish what the executor counted on a step: forwardEvaluations and
 * peakActivationBytes (they are deterministic for a plan). JMH *sums* EVENTS counters over all
 * measurement iterations of all forks, so each iteration publishes value / (iterations * forks):
 * the sum that JMH prints and writes as the secondary metric's score is then the per-step value
 * itself, whatever -i and -f are. (A warm-up iteration publishes the value itself; JMH discards it.)
 * @Setup checks, once, that the executor's counts equal the plan's own statistics.
 * forwardMs and backwardMs split the step by phase with the executor's own clock (one clock read
 * per action): each iteration publishes the mean over its steps, with the same share, so the sum is
 * the mean of the iterations' means. The report uses them to attribute a plan's gap to the forward
 * or the backward pass.
 *
 * Allocation. The target is a garbage-free step (Executor.gradient allocates nothing, the counters
 * are fields): -prof gc should show gc.alloc.rate.norm at ~0 B/op (up to a few KB when a step is so
 * long that JMH's own per-iteration objects are shared by a handful of steps). To tell kernel
 * allocation from the executor's, compare with the scalar kernels:
 *   ... -prof gc -jvmArgsAppend -Dcheckprop.kernels=scalar
 *
 * HOW TO RUN THIS TEST:
 *   java -jar benchmarks/target/benchmarks.jar Bench02_Step -rf json -rff result.json
 *       the default sweep; then the report, see benchmarks/README.md
 *   java -jar benchmarks/target/benchmarks.jar Bench02_Step -p layers=256 -p plan=full,sqrt -prof gc
 *       allocation per step: gc.alloc.rate.norm (B/op)
 *   java -jar benchmarks/target/benchmarks.jar Bench02_Step -p layers=64 -p threads=1,2 -f 1 -wi 1 -i 1 -w 1s -r 1s
 *       a quick look (seconds, not a measurement)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g", "-Xss1m"})
public class Bench02_Step {

    @Param({"full", "uniform:L/2", "uniform:L/4", "sqrt", "optimal:2sqrtL", "binomial:2sqrtL", "optimal:8",
            "binomial:8", "budget:fullBytes/8"})
    public String plan;

    @Param({"64", "256", "1024"})
    public int layers;

    @Param({"128"})
    public int width;

    @Param({"256"})
    public int batch;

    /** The executor's threads: {@code all} (every core the JVM sees) or a number. */
    @Param({"all"})
    public String threads;

    private Executor executor;
    private Batch data;
    private Gradients gradients;

    /**
     * Published per iteration; JMH sums EVENTS over the measurement iterations of every fork, so each
     * one publishes its share and the sum is the per-step value (see the class comment).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Counts {
        public double forwardEvaluations;
        public double peakActivationBytes;
        /** Milliseconds of the step spent in forward actions, and in backward actions (executor's clock). */
        public double forwardMs;
        public double backwardMs;

        /** 1 / (measurement iterations * forks) in a measurement iteration, 1 in a warm-up one. */
        double share = 1;
        /** This iteration's steps and their summed phase times (not counters: package-private). */
        long steps;
        long forwardNanos;
        long backwardNanos;

        @Setup(Level.Iteration)
        public void clear(BenchmarkParams benchmark, IterationParams iteration) {
            forwardEvaluations = 0;
            peakActivationBytes = 0;
            forwardMs = 0;
            backwardMs = 0;
            steps = 0;
            forwardNanos = 0;
            backwardNanos = 0;
            share = iteration.getType() == IterationType.MEASUREMENT
                    ? 1.0 / ((double) iteration.getCount() * Math.max(1, benchmark.getForks()))
                    : 1.0;
        }
    }

    /** Resolves {@code threads}: {@code all} is every core the JVM sees. */
    static int threadCount(String threads) {
        if (threads.equalsIgnoreCase("all")) {
            return Runtime.getRuntime().availableProcessors();
        }
        int t = Integer.parseInt(threads.trim());
        if (t < 1) {
            throw new IllegalArgumentException("threads must be 'all' or >= 1, got " + threads);
        }
        return t;
    }

    /** The benchmark's network: a tanh chain of {@code layers} layers of {@code width} units. */
    static Network network(int layers, int width) {
        return Network.builder(width).dense(layers, width, Activation.TANH).build(42);
    }

    /** The benchmark's batch: inputs and targets uniform in [-1, 1), fixed seeds. */
    static Batch batch(int width, int batch) {
        float[] x = new float[batch * width];
        float[] y = new float[batch * width];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(7, 1, i) - 1f;
            y[i] = 2f * Seeds.uniform(7, 2, i) - 1f;
        }
        return Batch.regression(x, width, y, width);
    }

    @Setup(Level.Trial)
    public void setup() {
        Network net = network(layers, width);
        data = batch(width, batch);
        // Count-based planners ignore the chain's sizes; budget planners read them.
        Plan p = Planners.parse(PlanSpec.resolve(plan, layers, width, batch))
                .plan(dev.checkprop.memory.MemoryModel.chain(net, batch, dev.checkprop.nn.StateModel.Mode.GRADIENT, ArrayLayout.current()));
        executor = new Executor(net, p, batch, Kernels.get(), threadCount(threads));
        gradients = Gradients.zerosLike(net);
        // One step to check that what the counters will publish is what the plan promises.
        executor.gradient(data, Loss.MSE, gradients);
        PlanStats stats = p.stats();
        if (executor.lastForwardEvaluations() != stats.forwardEvaluations()) {
            throw new IllegalStateException(p + ": the executor counted " + executor.lastForwardEvaluations()
                    + " forward evaluations, the plan " + stats.forwardEvaluations());
        }
        if (executor.lastPeakActivationBytes() != 4L * batch * width * stats.peakLiveBuffers()) {
            throw new IllegalStateException(p + ": the executor counted " + executor.lastPeakActivationBytes()
                    + " peak activation bytes, the plan " + stats.peakLiveBuffers() + " buffers of "
                    + (4L * batch * width) + " bytes");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        executor.close();
    }

    @Benchmark
    public double step(Counts counts) {
        double loss = executor.gradient(data, Loss.MSE, gradients);
        counts.forwardEvaluations = executor.lastForwardEvaluations() * counts.share;
        counts.peakActivationBytes = executor.lastPeakActivationBytes() * counts.share;
        // Times vary from step to step: publish the iteration's mean so far (JMH reads the last value).
        counts.steps++;
        counts.forwardNanos += executor.lastForwardNanos();
        counts.backwardNanos += executor.lastBackwardNanos();
        counts.forwardMs = counts.forwardNanos * 1e-6 / counts.steps * counts.share;
        counts.backwardMs = counts.backwardNanos * 1e-6 / counts.steps * counts.share;
        return loss;
    }
}
