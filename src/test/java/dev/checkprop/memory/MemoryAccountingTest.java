package dev.checkprop.memory;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
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
            default -> Network.builder(1).dense(9, 3, Activation.TANH).dense(1, Activation.IDENTITY).build(3);
        };
    }

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

    @Test
    void predictedEqualsJolMeasuredForEveryPlannerAndShape() {
        ArrayLayout layout = ArrayLayout.current();
        for (int shape = 0; shape < 3; shape++) {
            Network net = net(shape);
            for (int n : new int[] {1, 5, 17}) {
                boolean labels = shape == 1;
                Batch data = data(net, n, labels);
                Loss loss = labels ? Loss.SOFTMAX_CROSS_ENTROPY : Loss.MSE;
                for (String spec : PLANS) {
                    Plan plan = Planners.parse(spec).plan(net.depth());
                    try (Executor ex = new Executor(net, plan, n)) {
                        float[] state = new float[(int) net.parameterCount()];
                        MemoryReport r = MemoryReport.measure(ex, data, loss, Gradients.zerosLike(net), List.of(state));
                        String what = spec + ", shape " + shape + ", batch " + n;
                        for (MemoryCategory c : MemoryCategory.values()) {
                            assertEquals(r.predicted().bytes(c), r.measured(c), what + ": " + c);
                        }
                        assertEquals(r.predicted().peakLiveBytes(), r.measuredPeakLiveBytes(), what + ": live at peak");
                        assertTrue(r.consistent(), what);
                        assertEquals(plan.stats().peakLiveBuffers(), r.predicted().peakLiveBuffers(), what);
                        assertEquals(layout.floatArray(state.length), r.predicted().bytes(MemoryCategory.OPTIMIZER_STATE));
                    }
                }
            }
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
