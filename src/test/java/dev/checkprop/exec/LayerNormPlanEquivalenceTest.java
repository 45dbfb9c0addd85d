package dev.checkprop.exec;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.TestNets;
import dev.checkprop.select.PlanSelection;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With LayerNorm among dense, residual and dropout layers, every plan &mdash; the count-based planners
 * and budget plans &mdash; on 1 and 2 threads and both kernel paths gives the loss, the gradients and the
 * Hessian- and Gauss-Newton-vector products of full storage on one thread with the scalar kernels,
 * bit for bit (exact: {@link Gradients#bitEquals}); and the executor's own counts, its live bytes
 * included (a LayerNorm state is n + 2 rows: y, &mu; and r), are the plan's.
 */
class LayerNormPlanEquivalenceTest {

    private static final String[] PLANS = {
            "full", "uniform:1", "uniform:2", "uniform:3", "uniform:5", "sqrt", "binomial:1", "binomial:2", "binomial:3",
            "binomial:6", "optimal:2", "optimal:3", "optimal:5", "optimal:9"};

    private static final long STEP = 7;

    static Stream<TestNets.Case> cases() {
        // 15 layers: LayerNorm after the first dense layer, after a residual block, after dropout, before the output.
        Network deep = TestNets.withRandomBias(TestNets.withLayerNorms(Network.builder(7).dense(10, Activation.TANH)
                .residual(2, Activation.TANH).dropout(0.25f).residual(1, Activation.RELU).dense(12, Activation.SIGMOID)
                .residual(1, Activation.SIGMOID).dropout(0.5f).dense(8, Activation.TANH).dense(5, Activation.IDENTITY)
                .build(71), 72, 1, 3, 4, 7, 9), 73);
        Network edges = TestNets.layerNormEdges(74);
        // GELU keeps z as tape in dense layers (n more rows per state) and recomputes it in residual blocks.
        Network gelu = TestNets.withRandomBias(TestNets.withLayerNorms(Network.builder(6).dense(9, Activation.GELU)
                .residual(2, Activation.GELU).dropout(0.25f).dense(11, Activation.GELU).dense(4, Activation.IDENTITY)
                .build(75), 76, 1, 4), 77);
        return Stream.of(
                new TestNets.Case("15 layers with 5 layernorms, softmax-ce", deep, TestNets.classification(deep, 9, 5),
                        Loss.SOFTMAX_CROSS_ENTROPY),
                new TestNets.Case("15 layers with 5 layernorms, mse", deep, TestNets.regression(deep, 6, 6), Loss.MSE),
                // Two threads split work by samples in chunks of 16: 37 samples make three chunks, the last ragged.
                new TestNets.Case("15 layers with 5 layernorms, 37 samples, mse", deep, TestNets.regression(deep, 37, 8), Loss.MSE),
                new TestNets.Case("layernorm first, twice, after dropout and last, mse", edges,
                        TestNets.regression(edges, 7, 7), Loss.MSE),
                new TestNets.Case("gelu dense and residual with layernorms, softmax-ce", gelu,
                        TestNets.classification(gelu, 9, 9), Loss.SOFTMAX_CROSS_ENTROPY),
                new TestNets.Case("gelu dense and residual with layernorms, 37 samples, mse", gelu,
                        TestNets.regression(gelu, 37, 10), Loss.MSE));
    }

    private record Result(double loss, Gradients gradient, Gradients product, RunStats run) {
    }

    /** One run: a gradient ({@code curvature} null) or a product with its gradient, twice on one executor (the second reuses everything). */
    private static Result run(TestNets.Case c, Plan plan, DenseKernels k, int threads, Curvature curvature) {
        Network net = c.net();
        Gradients g = poisoned(net);
        Gradients hv = poisoned(net);
        Gradients v = TestNets.direction(net, 77);
        try (Executor ex = curvature == null ? new Executor(net, plan, c.data().size(), k, threads)
                : Executor.forHessianProducts(net, plan, c.data().size(), k, threads)) {
            ex.setStep(STEP);
            double loss = 0;
            for (int rep = 0; rep < 2; rep++) {
                loss = curvature == null ? ex.gradient(c.data(), c.loss(), g) : ex.hessianVector(c.data(), c.loss(), v, g, hv, curvature);
            }
            return new Result(loss, g, curvature == null ? null : hv, ex.lastRun());
        }
    }

    /** NaN everywhere, so that a parameter whose gradient or product was never written cannot pass. */
    private static Gradients poisoned(Network net) {
        Gradients g = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            Arrays.fill(g.weights(l), Float.NaN);
            Arrays.fill(g.bias(l), Float.NaN);
        }
        return g;
    }

    private static void assertSame(Result expected, Result got, String what) {
        assertEquals(Double.doubleToRawLongBits(expected.loss()), Double.doubleToRawLongBits(got.loss()), what + ": loss");
        assertTrue(expected.gradient().bitEquals(got.gradient()), what + ": gradients differ from full storage");
        if (expected.product() != null) {
            assertTrue(expected.product().bitEquals(got.product()), what + ": products differ from full storage");
        }
    }

    /** The plan's counts, and the peak state bytes computed here from the actions: 4 (n_l + tape) N per array of a live state. */
    private static void assertCounts(TestNets.Case c, Plan plan, RunStats run, StateModel.Mode mode, String what) {
        assertEquals(plan.stats().forwardEvaluations(), run.forwardEvaluations(), what + ": forward evaluations");
        assertEquals(plan.stats().peakLiveBuffers(), run.peakLiveBuffers(), what + ": peak live states");
        assertArrayEquals(plan.stats().evaluationsPerLayer(), run.evaluationsPerLayer(), what + ": evaluations per layer");
        Network net = c.net();
        long live = 0;
        long peak = 0;
        for (int i = 0; i < plan.size(); i++) {
            int l = plan.layer(i);
            if (plan.op(i) == Plan.Op.FORWARD || plan.op(i) == Plan.Op.DROP) {
                boolean geluTape = net.layer(l) instanceof dev.checkprop.nn.DenseLayer d && d.activation() == Activation.GELU;
                int rows = net.width(l) + (net.layer(l) instanceof LayerNormLayer ? 2 : 0) + (geluTape ? net.width(l) : 0);
                long bytes = 4L * rows * c.data().size() * (mode == StateModel.Mode.CURVATURE ? 2 : 1);
                live += plan.op(i) == Plan.Op.FORWARD ? bytes : -bytes;
                peak = Math.max(peak, live);
            }
        }
        assertEquals(peak, run.peakActivationBytes(), what + ": peak state bytes");
    }

    /** Budget plans for {@code mode}: a third and two thirds of the way from the smallest feasible budget to full storage. */
    private static List<Plan> budgetPlans(TestNets.Case c, StateModel.Mode mode) {
        ArrayLayout layout = ArrayLayout.current();
        Chain chain = MemoryModel.chain(c.net(), c.data().size(), mode, layout);
        List<Plan> plans = new ArrayList<>();
        for (int third = 1; third <= 2; third++) {
            long budget = chain.minBudget() + third * (chain.totalBytes() - chain.minBudget()) / 3;
            Plan plan = PlanSelection.budgetPlan(c.net(), c.data().size(), budget, mode, layout);
            assertTrue(plan.stats().forwardEvaluations() > c.net().depth(), plan.name() + " recomputes nothing");
            assertTrue(MemoryModel.simulate(c.net(), plan, c.data().size(), mode, layout).allocatedBytes() <= budget,
                    plan.name() + " allocates more than its budget");
            plans.add(plan);
        }
        return plans;
    }

    private static List<Plan> plans(TestNets.Case c, StateModel.Mode mode) {
        List<Plan> plans = new ArrayList<>();
        for (String spec : PLANS) {
            plans.add(Planners.parse(spec).plan(c.net().depth()));
        }
        plans.addAll(budgetPlans(c, mode));
        return plans;
    }

    private static DenseKernels[] paths() {
        return new DenseKernels[] {Kernels.get(), Kernels.scalar()};
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyPlanThreadCountAndKernelPathGivesTheGradientsOfFullStorage(TestNets.Case c) {
        Result full = run(c, Planners.parse("full").plan(c.net().depth()), Kernels.scalar(), 1, null);
        for (Plan plan : plans(c, StateModel.Mode.GRADIENT)) {
            for (DenseKernels k : paths()) {
                for (int threads = 1; threads <= 2; threads++) {
                    String what = c + ", " + plan.name() + ", " + k.name() + ", " + threads + " thread(s)";
                    Result got = run(c, plan, k, threads, null);
                    assertSame(full, got, what);
                    assertCounts(c, plan, got.run(), StateModel.Mode.GRADIENT, what);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void everyPlanThreadCountAndKernelPathGivesTheProductsOfFullStorage(TestNets.Case c) {
        for (Curvature curvature : Curvature.values()) {
            Result full = run(c, Planners.parse("full").plan(c.net().depth()), Kernels.scalar(), 1, curvature);
            // A product run's gradient is the plain gradient.
            assertTrue(full.gradient().bitEquals(run(c, Planners.parse("full").plan(c.net().depth()), Kernels.scalar(), 1, null)
                    .gradient()), c + ", " + curvature.label() + ": gradient of the product run");
            for (Plan plan : plans(c, StateModel.Mode.CURVATURE)) {
                for (DenseKernels k : paths()) {
                    for (int threads = 1; threads <= 2; threads++) {
                        String what = c + ", " + curvature.label() + ", " + plan.name() + ", " + k.name() + ", " + threads + " thread(s)";
                        Result got = run(c, plan, k, threads, curvature);
                        assertSame(full, got, what);
                        assertCounts(c, plan, got.run(), StateModel.Mode.CURVATURE, what);
                    }
                }
            }
        }
    }
}
