package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.FullStoragePlanner;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs the code of a network's training step until the JIT has compiled it, before the first real
 * step, so that the first step costs what the plan says rather than what the compiler does.
 *
 * <p>Without it the first step of a deep network runs its products in the interpreter and in C1,
 * where the Vector API computes lane by lane: measured 9-10 times the median step for 1024 tanh
 * layers of width 256 (batch 64, two threads, AMD EPYC Zen 4), which made every "first step" figure,
 * and {@code demo}'s comparison of plans, a measure of the JIT.
 *
 * <p>First the kernels' own warm-up ({@link DenseKernels#warmUp}: short products through every path,
 * for at most half the time), then the network's shapes. What the JIT compiles depends on the shapes (which register tiles and panels a product takes,
 * which layer kinds and activations run, and which of them sit next to each other, since a backward
 * step finishes the layer below's gradient), not on the depth. So for every distinct run of three
 * consecutive layers (and the first layer) this runs full-storage gradient steps of a three-layer
 * network made of those very layers, with the executor's batch size, kernels and thread count, on
 * zero inputs and targets, until five steps in a row take no more than 1.25 times the fastest
 * (compiled code installed), or {@value #LIMIT_MILLIS} ms have passed in all. A run whose warm-up
 * would take more than a quarter of the free heap is skipped. Each shape signature
 * is warmed once per JVM. Results are never affected: the warm-up runs on its own executors and
 * buffers, which are garbage before the real executor allocates its own.
 *
 * <p>On by default; {@code -Dcheckprop.warmup=false} turns it off (benchmarks that warm up by
 * themselves, or short-lived programs that run one step of a small network).
 */
final class WarmUp {

    /** The system property that turns it off. */
    static final String PROPERTY = "checkprop.warmup";
    /** Give up after this long, whatever has been compiled by then. */
    static final long LIMIT_MILLIS = 3000;

    private static final Set<String> DONE = ConcurrentHashMap.newKeySet();
    /** Set while warming up, so that the warm-up's own executors do not warm up again. */
    private static final ThreadLocal<Boolean> ACTIVE = ThreadLocal.withInitial(() -> false);

    private WarmUp() {
    }

    /** Warms up the steps of {@code net} for the given batch size, kernels and threads, once per JVM. */
    static void compile(Network net, int batch, DenseKernels kernels, int threads) {
        if (ACTIVE.get() || !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            return;
        }
        final Map<String, List<Layer>> chains = new LinkedHashMap<>();
        final int depth = net.depth();
        for (int i = 0; i < depth; i++) {
            // Layers i-2, i-1 and i (0-based); the first two start the network's own first chain.
            // Three, not two: the middle layer's backward step then finishes a gradient that the
            // layer above has already fused (f' and bias gradient) and hands one to a layer below,
            // as every inner layer of a deep network does; with pairs that combination never ran
            // while C2 profiled, and the first real step deoptimized on it.
            final List<Layer> chain = i < 2
                    ? net.layers().subList(0, Math.min(3, depth))
                    : net.layers().subList(i - 2, i + 1);
            final String key = (i < 2 ? "first " : "") + signature(chain) + " batch " + batch + " threads "
                    + threads + " " + kernels.name() + " " + kernels.tiles() + " flush " + kernels.flushesSubnormals();
            if (!DONE.contains(key)) {
                chains.putIfAbsent(key, chain);
            }
        }
        if (chains.isEmpty()) {
            return;
        }
        ACTIVE.set(true);
        try {
            final long deadline = System.nanoTime() + LIMIT_MILLIS * 1_000_000L;
            // The products first, on short reductions (what makes C2 compile a tile is the number
            // of calls, and short ones come cheap), then the steps of the network's own shapes.
            kernels.warmUp(System.nanoTime() + LIMIT_MILLIS * 1_000_000L / 2);
            for (Map.Entry<String, List<Layer>> e : chains.entrySet()) {
                if (System.nanoTime() >= deadline) {
                    break;
                }
                run(new Network(new ArrayList<>(e.getValue())), batch, kernels, threads, deadline);
                DONE.add(e.getKey());
            }
            awaitQuietCompiler(deadline);
        } finally {
            ACTIVE.set(false);
        }
    }

    /**
     * Waits until the JIT has finished no compilation for 100 ms (its total compilation time, as the JVM
     * reports it, stays put), or until {@code deadline}: the steps above have queued compilations
     * (C2 compiles in the background), and a first real step that starts before they are installed
     * runs in the interpreter, measured at 2-3 times the median step.
     */
    private static void awaitQuietCompiler(long deadline) {
        final java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return;
        }
        long last = jit.getTotalCompilationTime();
        int quiet = 0;
        while (quiet < 10 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            final long now = jit.getTotalCompilationTime();
            quiet = now == last ? quiet + 1 : 0;
            last = now;
        }
    }

    private static String signature(List<Layer> chain) {
        final StringBuilder sb = new StringBuilder();
        for (Layer d : chain) {
            sb.append(d.getClass().getName()).append(" ").append(d.describe()).append(" ").append(d.tapeRows()).append(" ").append(d.inputWidth()).append("->")
                    .append(d.outputWidth()).append("; ");
        }
        return sb.toString();
    }

    /**
     * A generous estimate of what a warm-up step of {@code mini} allocates: its activations, input
     * and target, gradient scratch and the parameters' gradients, twice over.
     */
    static long bytes(Network mini, int batch) {
        long floats = 0;
        for (int l = 0; l <= mini.depth(); l++) {
            floats += 3L * mini.width(l) * batch;
        }
        floats += 2 * mini.parameterCount();
        return 2 * 4 * floats;
    }

    private static void run(Network mini, int batch, DenseKernels kernels, int threads, long deadline) {
        final Runtime rt = Runtime.getRuntime();
        if (bytes(mini, batch) > (rt.maxMemory() - (rt.totalMemory() - rt.freeMemory())) / 4) {
            // Best effort: never let a warm-up make a run that fits its heap run out of it.
            return;
        }
        final Batch data = Batch.regression(new float[Math.multiplyExact(batch, mini.inputWidth())],
                mini.inputWidth(), new float[Math.multiplyExact(batch, mini.outputWidth())], mini.outputWidth());
        final Gradients g = Gradients.zerosLike(mini);
        try (Executor ex = new Executor(mini, new FullStoragePlanner().plan(mini.depth()), batch, kernels, threads)) {
            long best = Long.MAX_VALUE;
            int steady = 0;
            while (steady < 5 && System.nanoTime() < deadline) {
                final long t0 = System.nanoTime();
                ex.gradient(data, Loss.MSE, g);
                final long t = System.nanoTime() - t0;
                best = Math.min(best, t);
                steady = t * 4 <= best * 5 ? steady + 1 : 0;
            }
        }
    }
}
