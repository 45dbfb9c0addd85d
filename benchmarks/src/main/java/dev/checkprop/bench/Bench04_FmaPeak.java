package dev.checkprop.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/*
 * The peak against which the kernels of Bench03 are stated: the most single-precision FLOP/s one
 * thread gets from the Vector API on this machine, with no memory traffic at all: 16 independent
 * FMA chains on FloatVector.SPECIES_PREFERRED, enough to cover the FMA latency (4 cycles) on two
 * pipes; each FMA is 2 FLOPs per lane. Measured with 8, 12, 16, 20 and 24 chains: 8 to 16 give the
 * same figure, 20 and 24 less (C2 spills accumulators in this loop), so 16 is the ceiling.
 *
 * This is a measured ceiling, not the data-sheet number (pipes x lanes x 2 x clock): in a VM the
 * clock is not known, and what matters is what Java code can reach. It measured about 220 GFLOP/s
 * on an AMD EPYC Zen 5 (64 FLOPs per cycle: two 512-bit FMA pipes at about 3.4 GHz) and 112 on a
 * Zen 4 (two 256-bit pipes, a 512-bit FMA taking both), 108 there with -XX:UseAVX=2 (256-bit
 * vectors). Run it on the machine whose kernels you state against it.
 *
 * HOW TO RUN THIS TEST:
 *   java -jar benchmarks/target/benchmarks.jar Bench04_FmaPeak
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class Bench04_FmaPeak {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** FMA steps per operation, per chain. */
    private static final int STEPS = 4096;
    private static final int CHAINS = 16;

    private float x;
    private float y;

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

    @Setup(Level.Trial)
    public void setup() {
        // Multipliers near 1 keep the chains finite and normal for all steps.
        x = 0.9999999f;
        y = 1e-7f;
    }

    /** 16 chains of {@value #STEPS} vector FMAs each. */
    @Benchmark
    public float fma(Flops f) {
        final FloatVector m = FloatVector.broadcast(S, x);
        final FloatVector c = FloatVector.broadcast(S, y);
        FloatVector a0 = FloatVector.broadcast(S, 1f);
        FloatVector a1 = a0.add(c);
        FloatVector a2 = a1.add(c);
        FloatVector a3 = a2.add(c);
        FloatVector a4 = a3.add(c);
        FloatVector a5 = a4.add(c);
        FloatVector a6 = a5.add(c);
        FloatVector a7 = a6.add(c);
        FloatVector a8 = a7.add(c);
        FloatVector a9 = a8.add(c);
        FloatVector a10 = a9.add(c);
        FloatVector a11 = a10.add(c);
        FloatVector a12 = a11.add(c);
        FloatVector a13 = a12.add(c);
        FloatVector a14 = a13.add(c);
        FloatVector a15 = a14.add(c);
        for (int s = 0; s < STEPS; s++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
            a12 = a12.fma(m, c);
            a13 = a13.fma(m, c);
            a14 = a14.fma(m, c);
            a15 = a15.fma(m, c);
        }
        f.GFLOP += 2.0 * S.length() * CHAINS * STEPS / 1e9;
        FloatVector sum = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10)
                .add(a11).add(a12).add(a13).add(a14).add(a15);
        return sum.reduceLanes(VectorOperators.ADD);
    }
}
