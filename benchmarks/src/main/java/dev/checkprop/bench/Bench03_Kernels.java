package dev.checkprop.bench;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Seeds;
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
 * The three matrix products of a dense layer (DenseKernels), alone, on one thread: how fast the
 * kernels are, and how much the Vector API path gains over the scalar reference. A training step
 * (Bench02) is almost entirely these three products, two of them in the backward pass — which is
 * why the trade-off report models one backward step as two forward evaluations.
 *
 * Shapes are nOut x nIn x batch, on the layouts the executor uses (unit-major activations, row-major
 * weights, sample-major activations for the weight gradient):
 *   128x128x256      a layer of Bench02's default network (width 128, batch 256)
 *   256x256x64       a wider layer on a small batch (fewer columns to vectorise over)
 *   1024x1024x1024   a large layer: compute-bound, caches overflowed
 * Each product is 2 * nOut * nIn * batch floating-point operations (one FMA = 2).
 *
 * Metrics. Mode.Throughput, so the primary score is products per second, and the OPERATIONS
 * counter GFLOP — the giga-FLOPs done, normalised by JMH like the score — reads directly as
 * GFLOP/s ("GFLOP ... ops/s" in JMH's table). `kernels` chooses the implementation: `vector`
 * (Kernels.vector(), needs --add-modules jdk.incubator.vector, which the fork adds) or `scalar`
 * (Kernels.scalar(), the reference implementation of the bit contract).
 *
 * Warm-up. Vector API code is interpreted or C1-compiled at first, thousands of times slower and
 * allocating a vector object per operation; at 128x128x256 weightGradient needed about 6 s to reach
 * its C2 speed, hence 4 x 2 s. Run with -prof gc to check: after warm-up every product allocates
 * nothing (gc.alloc.rate.norm ~0 B/op). The default run is 3 shapes x 2 kernels x 3 products =
 * 18 forks of about 15 s: about 5 minutes.
 *
 * HOW TO RUN THIS TEST:
 *   java -jar benchmarks/target/benchmarks.jar Bench03_Kernels
 *   java -jar benchmarks/target/benchmarks.jar Bench03_Kernels -p shape=128x128x256 -p kernels=vector -f 1 -wi 1 -i 2
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 4, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class Bench03_Kernels {

    /** nOut x nIn x batch. */
    @Param({"128x128x256", "256x256x64", "1024x1024x1024"})
    public String shape;

    /** {@code vector} or {@code scalar}. */
    @Param({"vector", "scalar"})
    public String kernels;

    private DenseKernels k;
    private int nOut;
    private int nIn;
    private int n;
    private double gflopPerProduct;

    private float[] w;
    private float[] b;
    /** Input activations, unit-major [nIn, batch]. */
    private float[] a;
    /** The same activations, sample-major [batch, nIn], for the weight gradient. */
    private float[] aRows;
    /** Gradient with respect to z, unit-major [nOut, batch]. */
    private float[] g;
    private float[] z;
    private float[] gin;
    private float[] dw;

    /** GFLOP done, normalised by JMH to GFLOP/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double GFLOP;

        @Setup(Level.Iteration)
        public void clear() {
            GFLOP = 0;
        }
    }

    /** Parses {@code nOut x nIn x batch}. */
    static int[] parseShape(String shape) {
        String[] parts = shape.trim().toLowerCase().split("x");
        if (parts.length != 3) {
            throw new IllegalArgumentException("shape must be nOutxnInxbatch, got '" + shape + "'");
        }
        int[] dims = new int[3];
        for (int i = 0; i < 3; i++) {
            dims[i] = Integer.parseInt(parts[i].trim());
            if (dims[i] < 1) {
                throw new IllegalArgumentException("shape '" + shape + "' has a dimension < 1");
            }
        }
        return dims;
    }

    /** The kernels a {@code kernels} parameter names. */
    static DenseKernels kernels(String name) {
        return switch (name) {
            case "vector" -> Kernels.vector().orElseThrow(() -> new IllegalStateException(
                    "vector kernels unavailable: run with --add-modules jdk.incubator.vector"));
            case "scalar" -> Kernels.scalar();
            default -> throw new IllegalArgumentException("kernels must be vector or scalar, got '" + name + "'");
        };
    }

    @Setup(Level.Trial)
    public void setup() {
        int[] dims = parseShape(shape);
        nOut = dims[0];
        nIn = dims[1];
        n = dims[2];
        k = kernels(kernels);
        gflopPerProduct = 2.0 * nOut * nIn * n / 1e9;
        w = fill(new float[nOut * nIn], 1, 0.1f);
        b = fill(new float[nOut], 2, 0.1f);
        a = fill(new float[nIn * n], 3, 1f);
        aRows = new float[n * nIn];
        DenseKernels.transpose(nIn, n, a, aRows);
        g = fill(new float[nOut * n], 4, 1f);
        z = new float[nOut * n];
        gin = new float[nIn * n];
        dw = new float[nOut * nIn];
    }

    private static float[] fill(float[] x, long stream, float scale) {
        for (int i = 0; i < x.length; i++) {
            x[i] = scale * (2f * Seeds.uniform(11, stream, i) - 1f);
        }
        return x;
    }

    /** z = W a + b: the forward of a layer (before its activation). */
    @Benchmark
    public float[] forward(Flops f) {
        k.forward(nOut, nIn, n, w, b, a, z, 0, n);
        f.GFLOP += gflopPerProduct;
        return z;
    }

    /** gin = W^T g: the gradient passed to the layer below. */
    @Benchmark
    public float[] backwardInput(Flops f) {
        k.backwardInput(nOut, nIn, n, w, g, gin, 0, n);
        f.GFLOP += gflopPerProduct;
        return gin;
    }

    /** dW = g a^T: the weight gradient. */
    @Benchmark
    public float[] weightGradient(Flops f) {
        k.weightGradient(nOut, nIn, n, g, aRows, dw, 0, nOut);
        f.GFLOP += gflopPerProduct;
        return dw;
    }
}
