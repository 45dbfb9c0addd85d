package dev.checkprop.hvp;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Curvature;
import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.PlanStats;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every plan, thread count and kernel path gives the products of full storage on one thread bit for
 * bit (compared as raw int bits), for both curvatures, with the executor's counts equal to the
 * plan's and its live bytes twice a gradient's.
 */
class HvpPlanEquivalenceTest {

    private static final String[] PLANS = {
            "uniform:1", "uniform:2", "uniform:3", "sqrt", "binomial:1", "binomial:2", "binomial:4", "binomial:8",
            "optimal:2", "optimal:3", "optimal:6", "optimal:11"};

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    static Stream<TestNets.Case> cases() {
        List<TestNets.Case> c = new ArrayList<>();
        for (Activation f : Activation.values()) {
            c.add(TestNets.dense(f, Activation.TANH, 6));
        }
        c.add(TestNets.mixedMse(7));
        c.add(TestNets.mixedSoftmax(19));
        return c.stream();
    }

    private record Result(double loss, Gradients gradient, Gradients product, RunStats run) {
    }

    private static Result run(TestNets.Case c, Plan plan, DenseKernels k, int threads, Curvature curvature) {
        Network net = c.net();
        Gradients g = Gradients.zerosLike(net);
        Gradients hv = Gradients.zerosLike(net);
        // Poison the outputs so that a layer never written cannot pass.
        for (int l = 1; l <= net.depth(); l++) {
            java.util.Arrays.fill(g.weights(l), Float.NaN);
            java.util.Arrays.fill(hv.weights(l), Float.NaN);
            java.util.Arrays.fill(hv.bias(l), Float.NaN);
        }
        try (Executor ex = Executor.forHessianProducts(net, plan, c.data().size(), k, threads)) {
            ex.setStep(3);
            // Twice: the second run reuses the pools, the R twins and the workers.
            ex.hessianVector(c.data(), c.loss(), TestNets.direction(net, 77), g, hv, curvature);
            double loss = ex.hessianVector(c.data(), c.loss(), TestNets.direction(net, 77), g, hv, curvature);
            return new Result(loss, g, hv, ex.lastRun());
        }
    }

    private static void assertSame(Result expected, Result got, String what) {
        assertEquals(Double.doubleToRawLongBits(expected.loss()), Double.doubleToRawLongBits(got.loss()), what + ": loss");
        for (int l = 1; l <= expected.product().depth(); l++) {
            assertArrayEquals(bits(expected.product().weights(l)), bits(got.product().weights(l)), what + ": (Cv)_W^" + l);
            assertArrayEquals(bits(expected.product().bias(l)), bits(got.product().bias(l)), what + ": (Cv)_b^" + l);
            assertArrayEquals(bits(expected.gradient().weights(l)), bits(got.gradient().weights(l)), what + ": dL/dW^" + l);
            assertArrayEquals(bits(expected.gradient().bias(l)), bits(got.gradient().bias(l)), what + ": dL/db^" + l);
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyPlanGivesTheProductsOfFullStorage(TestNets.Case c) {
        int depth = c.net().depth();
        for (Curvature k : Curvature.values()) {
            Result full = run(c, Planners.parse("full").plan(depth), Kernels.scalar(), 1, k);
            for (String spec : PLANS) {
                Plan plan = Planners.parse(spec).plan(depth);
                Result got = run(c, plan, Kernels.get(), 1, k);
                String what = c + ", " + k.label() + ", " + spec;
                assertSame(full, got, what);
                PlanStats predicted = plan.stats();
                assertEquals(predicted.forwardEvaluations(), got.run().forwardEvaluations(), what + ": forward evaluations");
                assertEquals(predicted.peakLiveBuffers(), got.run().peakLiveBuffers(), what + ": peak live buffers");
                assertArrayEquals(predicted.evaluationsPerLayer(), got.run().evaluationsPerLayer(), what + ": evaluations per layer");
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyThreadCountAndKernelPathGivesTheSameBits(TestNets.Case c) {
        int depth = c.net().depth();
        DenseKernels[] paths = Kernels.vector().isPresent()
                ? new DenseKernels[] {Kernels.scalar(), Kernels.vector().get()} : new DenseKernels[] {Kernels.scalar()};
        for (Curvature k : Curvature.values()) {
            Result reference = run(c, Planners.parse("binomial:3").plan(depth), Kernels.scalar(), 1, k);
            for (DenseKernels path : paths) {
                for (int threads = 1; threads <= 3; threads++) {
                    assertSame(reference, run(c, Planners.parse("binomial:3").plan(depth), path, threads, k),
                            c + ", " + k.label() + ", " + path.name() + ", " + threads + " threads");
                }
            }
        }
    }

    /** A batch wide enough that two and three threads each get whole 16-column blocks, and a ragged one. */
    @Test
    void threadsSplitWideBatchesWithoutChangingBits() {
        for (int batch : new int[] {37, 70}) {
            TestNets.Case c = TestNets.mixedSoftmax(batch);
            Result one = run(c, Planners.parse("sqrt").plan(c.net().depth()), Kernels.get(), 1, Curvature.HESSIAN);
            Result two = run(c, Planners.parse("sqrt").plan(c.net().depth()), Kernels.get(), 2, Curvature.HESSIAN);
            Result four = run(c, Planners.parse("optimal:4").plan(c.net().depth()), Kernels.get(), 4, Curvature.HESSIAN);
            assertSame(one, two, "batch " + batch + ", 2 threads");
            assertSame(one, four, "batch " + batch + ", 4 threads, optimal:4");
        }
    }

    /** A state is the pair (a, R{a}): the executor's live bytes double, and HvpMemory's chain says so. */
    @Test
    void statesCostTwiceTheBytesOfAnActivation() throws Exception {
        TestNets.Case c = TestNets.mixedMse(8);
        Network net = c.net();
        Plan plan = Planners.parse("binomial:3").plan(net.depth());
        long plainPeak;
        try (Executor ex = new Executor(net, plan, 8)) {
            ex.gradient(c.data(), c.loss(), Gradients.zerosLike(net));
            plainPeak = ex.lastRun().peakActivationBytes();
        }
        try (Executor ex = Executor.forHessianProducts(net, plan, 8, Kernels.get(), 1)) {
            ex.hessianVector(c.data(), c.loss(), TestNets.direction(net, 1), null, Gradients.zerosLike(net), Curvature.HESSIAN);
            assertEquals(2 * plainPeak, ex.lastRun().peakActivationBytes());
            ex.gradient(c.data(), c.loss(), Gradients.zerosLike(net));
            assertEquals(plainPeak, ex.lastRun().peakActivationBytes(), "a plain gradient on a Hessian-mode executor");
            assertEquals(ex.activationPool().stream().mapToLong(a -> 4L * a.length).sum(), ex.poolPayloadBytes());
        }
        ArrayLayout layout = ArrayLayout.current();
        Chain chain = MemoryModel.chain(net, 8, StateModel.Mode.CURVATURE, layout);
        assertEquals(net.depth(), chain.layers());
        for (int l = 1; l <= net.depth(); l++) {
            assertEquals(2 * MemoryModel.stateBytes(net, l, 8, StateModel.Mode.GRADIENT, layout), chain.bytes(l), "layer " + l);
            assertTrue(chain.cost(l) >= 1);
        }
        // Layer 2 (residual 8x8) runs three products, layer 1 (dense 6 -> 8) two.
        assertEquals(3L * 2 * 8 * 8 * 8, net.layer(2).tangentCost(8, false));
        assertEquals(2L * 2 * 8 * 8 * 6, net.layer(1).tangentCost(8, true));
        assertEquals(8L * 8, net.layer(4).tangentCost(8, false), "dropout: its element count");
        // L²·Σflops above Chain's 2^59 limit (2000² · 6·2^22·64² ≈ 4e17): costs are scaled into range
        // rather than rejected, keeping their ratios.
        Network deep = Network.builder(64).dense(2000, 64, Activation.TANH).build(1);
        Chain big = MemoryModel.chain(deep, 1 << 22, StateModel.Mode.CURVATURE, layout);
        assertEquals(2000, big.layers());
        assertTrue(big.cost(1) < big.cost(2) && big.cost(2) == big.cost(3), big.toString());
    }

    /**
     * Budget plans see the pairs: a budget that would hold every activation of a gradient holds about
     * half the (a, R{a}) states, so the plan recomputes, stays within the budget, and gives the
     * products of full storage bit for bit.
     */
    @Test
    void budgetPlansCountEachStateAsAPair() {
        TestNets.Case c = TestNets.mixedSoftmax(16);
        Network net = c.net();
        ArrayLayout layout = ArrayLayout.current();
        long plainFullStorage = MemoryModel.chain(net, 16, StateModel.Mode.GRADIENT, layout).totalBytes();
        Plan plan = dev.checkprop.select.PlanSelection.budgetPlan(net, 16, plainFullStorage, StateModel.Mode.CURVATURE, layout);
        assertTrue(plan.stats().forwardEvaluations() > net.depth(), plan.name() + ": " + plan.stats());
        Result full = run(c, Planners.parse("full").plan(net.depth()), Kernels.get(), 1, Curvature.HESSIAN);
        Result got = run(c, plan, Kernels.get(), 1, Curvature.HESSIAN);
        assertSame(full, got, plan.name());
        // The executor counts payload; the budget counts headers too, so payload must fit with room.
        assertTrue(got.run().peakActivationBytes() <= plainFullStorage, got.run().peakActivationBytes() + " > " + plainFullStorage);
        assertTrue(full.run().peakActivationBytes() > plainFullStorage, "full storage of pairs would not fit");
    }
}
