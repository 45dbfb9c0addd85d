package dev.checkprop.memory;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the plan predicts the computation holds is what JOL measures on the live objects at the
 * plan's peak action, category by category, for every planner and several shapes. No byte count
 * is hard-coded: the suite also runs under other VM layouts (see the pom's second surefire run).
 */
class MemoryAccountingTest {

    private static final String[] PLANS = {"full", "uniform:3", "sqrt", "binomial:2", "binomial:5", "optimal:2",
            "optimal:5"};

    static Network net(int shape) {
        return switch (shape) {
            case 0 -> Network.builder(12).dense(20, 16, Activation.TANH).dense(3, Activation.IDENTITY).build(1);
            case 1 -> Network.builder(7).dense(3, 32, Activation.RELU).dense(4, 5, Activation.TANH)
                    .dense(6, 24, Activation.SIGMOID).dense(4, Activation.IDENTITY).build(2);
            case 2 -> Network.builder(1).dense(9, 3, Activation.TANH).dense(1, Activation.IDENTITY).build(3);
            // Residual blocks (scratch for the recomputed branch), dropout, and widths that change.
            case 3 -> Network.builder(5).dense(12, Activation.TANH).residual(4, Activation.RELU).dropout(0.3f)
                    .dense(2, 20, Activation.SIGMOID).residual(2, Activation.TANH).dense(3, Activation.IDENTITY).build(4);
            // GELU: dense states with z as tape (twice the rows), residual blocks with a copy of z in scratch.
            case 5 -> Network.builder(4).dense(2, 9, Activation.GELU).residual(2, Activation.GELU).dense(6, Activation.TANH)
                    .dense(3, Activation.IDENTITY).build(8);
            // LayerNorm: states with two rows of tape, between layers of other widths.
            default -> {
                java.util.List<dev.checkprop.nn.Layer> layers = new java.util.ArrayList<>(
                        Network.builder(6).dense(10, Activation.TANH).residual(2, Activation.TANH).build(5).layers());
                layers.add(dev.checkprop.nn.LayerNormLayer.identity(10));
                layers.addAll(Network.builder(10).dense(2, 10, Activation.TANH).build(6).layers());
                layers.add(dev.checkprop.nn.LayerNormLayer.identity(10));
                layers.addAll(Network.builder(10).dense(4, Activation.IDENTITY).build(7).layers());
                yield new Network(layers);
            }
        };
    }

    /** The shapes above. */
    static final int SHAPES = 6;

    static Batch data(Network net, int n, boolean labels) {
        float[] x = new float[n * net.inputWidth()];
        for (int i = 0; i < x.length; i++) {
            x[i] = Seeds.uniform(5, 1, i) - 0.5f;
        }
        if (labels) {
            int[] y = new int[n];
            for (int i = 0; i < n; i++) {
                y[i] = i % net.outputWidth();
            }
            return Batch.classification(x, net.inputWidth(), y);
        }
        float[] y = new float[n * net.outputWidth()];
        return Batch.regression(x, net.inputWidth(), y, net.outputWidth());
    }

    /**
     * Every planner, count-based and budgets, on every shape, in gradient and in curvature mode: the
     * bytes the executor allocates for states equal the simulation's prediction and JOL's
     * measurement, and a budget bounds them.
     */
    @Test
    void predictedEqualsJolMeasuredForEveryPlannerShapeAndMode() {
        ArrayLayout layout = ArrayLayout.current();
        for (int shape = 0; shape < SHAPES; shape++) {
            Network net = net(shape);
            for (int n : new int[] {1, 5, 17}) {
                boolean labels = shape == 1;
                Batch data = data(net, n, labels);
                Loss loss = labels ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
                for (StateModel.Mode mode : StateModel.Mode.values()) {
                    long fullStates = MemoryModel.chain(net, n, mode, layout).totalBytes();
                    java.util.List<Plan> plans = new java.util.ArrayList<>();
                    java.util.List<Long> budgets = new java.util.ArrayList<>();
                    for (String spec : PLANS) {
                        plans.add(Planners.parse(spec).plan(net.depth()));
                        budgets.add(-1L);
                    }
                    for (long budget : new long[] {fullStates, fullStates / 2, fullStates / 3}) {
                        try {
                            plans.add(dev.checkprop.select.PlanSelection.budgetPlan(net, n, budget, mode, layout));
                            budgets.add(budget);
                        } catch (IllegalArgumentException tooSmall) {
                            // Below the chain's minimum: nothing to measure.
                        }
                    }
                    for (int k = 0; k < plans.size(); k++) {
                        Plan plan = plans.get(k);
                        String what = plan.name() + ", shape " + shape + ", batch " + n + ", " + mode;
                        MemoryReport r = measure(net, plan, n, data, loss, mode);
                        for (MemoryCategory c : MemoryCategory.values()) {
                            assertEquals(r.predicted().bytes(c), r.measured(c), what + ": " + c);
                        }
                        assertEquals(r.predicted().peakOccupiedBytes(), r.measuredPeakLiveBytes(), what + ": live at peak");
                        assertTrue(r.consistent(), what);
                        assertEquals(plan.stats().peakLiveBuffers(), r.predicted().peakLiveBuffers(), what);
                        assertEquals(MemoryModel.simulate(net, plan, n, mode, layout).allocatedBytes(),
                                r.predicted().bytes(MemoryCategory.ACTIVATIONS), what);
                        if (budgets.get(k) >= 0) {
                            assertTrue(r.measured(MemoryCategory.ACTIVATIONS) <= budgets.get(k),
                                    what + ": allocated " + r.measured(MemoryCategory.ACTIVATIONS) + " > budget " + budgets.get(k));
                        }
                    }
                }
            }
        }
    }

    /**
     * Tiered plans: the heap is still exactly what JOL measures (a read's buffer counts like a
     * forward's); the direct-buffer pool grows, while the executor lives, by exactly the predicted
     * off-heap slots and staging buffer and is back where it was after close; the spill file has exactly
     * the predicted size and is gone after close.
     */
    @Test
    void tieredPlansMatchJolThePoolAndTheFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path spill)
            throws java.io.IOException {
        java.util.Random rnd = new java.util.Random(16);
        int tiered = 0;
        // JOL's first walk attaches to this JVM, and the attach socket leaves a temporary direct buffer
        // cached on this thread: before the pool is compared, not in the middle.
        try (Executor warm = new Executor(net(0), Planners.parse("full").plan(net(0).depth()), 1)) {
            measureWith(warm, data(net(0), 1, false), Loss.MSE, StateModel.Mode.GRADIENT);
        }
        for (int shape = 0; shape < SHAPES; shape++) {
            Network net = net(shape);
            for (int n : new int[] {1, 17}) {
                boolean labels = shape == 1;
                Batch data = data(net, n, labels);
                Loss loss = labels ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
                for (StateModel.Mode mode : StateModel.Mode.values()) {
                    for (String base : new String[] {"full", "sqrt", "binomial:2"}) {
                        Plan plan = dev.checkprop.plan.RandomTierPlans.derive(Planners.parse(base).plan(net.depth()), rnd, 0.7, 0.8);
                        if (!plan.usesTiers()) {
                            continue;
                        }
                        tiered++;
                        String what = plan.actionsText() + ", shape " + shape + ", batch " + n + ", " + mode;
                        MemoryModel.TierBytes t = MemoryModel.predict(net, plan, n, labels, new long[0], mode,
                                ArrayLayout.current()).tiers();
                        long before = dev.checkprop.tier.DirectMemory.used();
                        MemoryReport r;
                        try (Executor ex = mode == StateModel.Mode.GRADIENT
                                ? new Executor(net, plan, n, dev.checkprop.kernel.Kernels.get(), 1, spill)
                                : Executor.forHessianProducts(net, plan, n, dev.checkprop.kernel.Kernels.get(), 1, spill)) {
                            assertEquals(t.directBytes(), dev.checkprop.tier.DirectMemory.used() - before, what + ": direct pool");
                            assertEquals(t.directBytes(), ex.tiers().directBytes(), what);
                            java.nio.file.Path file = ex.tiers().spillFile();
                            assertEquals(t.diskBytes(), file == null ? 0 : java.nio.file.Files.size(file), what + ": spill file");
                            r = measureWith(ex, data, loss, mode);
                            assertEquals(t.offHeapPeakBytes(), ex.lastRun().peakBytes(dev.checkprop.plan.Tier.OFF_HEAP), what);
                            assertEquals(t.diskPeakBytes(), ex.lastRun().peakBytes(dev.checkprop.plan.Tier.DISK), what);
                        }
                        assertEquals(0, dev.checkprop.tier.DirectMemory.used() - before, what + ": direct memory freed on close");
                        try (java.util.stream.Stream<java.nio.file.Path> left = java.nio.file.Files.list(spill)) {
                            assertEquals(List.of(), left.toList(), what + ": spill files left");
                        }
                        for (MemoryCategory c : MemoryCategory.values()) {
                            assertEquals(r.predicted().bytes(c), r.measured(c), what + ": " + c);
                        }
                        assertEquals(r.predicted().peakOccupiedBytes(), r.measuredPeakLiveBytes(), what + ": live at peak");
                        assertEquals(plan.stats().peakLiveBuffers(), r.predicted().peakLiveBuffers(), what);
                    }
                }
            }
        }
        assertTrue(tiered >= 50, "tiered plans measured: " + tiered);
    }

    private static MemoryReport measureWith(Executor ex, Batch data, Loss loss, StateModel.Mode mode) {
        Network net = ex.network();
        if (mode == StateModel.Mode.GRADIENT) {
            return MemoryReport.measure(ex, data, loss, Gradients.zerosLike(net), List.of());
        }
        Gradients v = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            java.util.Arrays.fill(v.weights(l), 0.01f);
        }
        return MemoryReport.measureCurvature(ex, data, loss, v, Gradients.zerosLike(net), Gradients.zerosLike(net),
                dev.checkprop.nn.Curvature.HESSIAN);
    }

    private static MemoryReport measure(Network net, Plan plan, int n, Batch data, Loss loss, StateModel.Mode mode) {
        if (mode == StateModel.Mode.GRADIENT) {
            try (Executor ex = new Executor(net, plan, n)) {
                float[] state = new float[(int) net.parameterCount()];
                MemoryReport r = MemoryReport.measure(ex, data, loss, Gradients.zerosLike(net), List.of(state));
                assertEquals(ArrayLayout.current().floatArray(state.length), r.predicted().bytes(MemoryCategory.OPTIMIZER_STATE));
                return r;
            }
        }
        try (Executor ex = Executor.forHessianProducts(net, plan, n, dev.checkprop.kernel.Kernels.get(), 1)) {
            Gradients v = Gradients.zerosLike(net);
            for (int l = 1; l <= net.depth(); l++) {
                java.util.Arrays.fill(v.weights(l), 0.01f);
                java.util.Arrays.fill(v.bias(l), -0.02f);
            }
            return MemoryReport.measureCurvature(ex, data, loss, v, Gradients.zerosLike(net), Gradients.zerosLike(net),
                    dev.checkprop.nn.Curvature.HESSIAN);
        }
    }

    /** Relations that hold whatever the VM's layout: the model is not a formula fitted to one VM. */
    @Test
    void relationsBetweenPlans() {
        ArrayLayout layout = ArrayLayout.current();
        Network net = Network.builder(16).dense(400, 16, Activation.TANH).build(9);
        long full = MemoryModel.predict(net, Planners.parse("full").plan(400), 32, false, new long[0], layout)
                .bytes(MemoryCategory.ACTIVATIONS);
        long sqrt = MemoryModel.predict(net, Planners.parse("sqrt").plan(400), 32, false, new long[0], layout)
                .bytes(MemoryCategory.ACTIVATIONS);
        long binomial = MemoryModel.predict(net, Planners.parse("binomial:4").plan(400), 32, false, new long[0], layout)
                .bytes(MemoryCategory.ACTIVATIONS);
        long one = layout.floatArray(16 * 32);
        assertEquals(400 * one, full);
        assertTrue(binomial < sqrt && sqrt < full, binomial + " < " + sqrt + " < " + full);
        assertTrue(binomial <= 5 * one);
        assertTrue(layout.floatArray(1) >= 4 + layout.floatArrayHeader() && layout.floatArray(1) % layout.alignment() == 0);
    }
}
