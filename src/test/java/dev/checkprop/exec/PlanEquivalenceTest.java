package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.PlanStats;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every plan gives the loss and gradients of full storage bit for bit, and the executor's own
 * counts equal what the plan checker derived from the actions alone.
 */
class PlanEquivalenceTest {

    private static final String[] PLANS = {
            "uniform:1", "uniform:2", "uniform:3", "uniform:8", "sqrt", "binomial:1", "binomial:2", "binomial:4",
            "binomial:8", "optimal:2", "optimal:3", "optimal:6", "optimal:13"};

    /** Runs {@code spec} and asserts bit equality with full storage and exact counts. */
    static void assertSameAsFull(Network net, Batch data, Loss loss, String spec) {
        Plan full = Planners.parse("full").plan(net.depth());
        Gradients expected = Gradients.zerosLike(net);
        double expectedLoss = new Executor(net, full, data.size()).gradient(data, loss, expected);

        Plan plan = Planners.parse(spec).plan(net.depth());
        Executor ex = new Executor(net, plan, data.size());
        Gradients got = Gradients.zerosLike(net);
        // Poison the output so that a layer whose gradient was never written cannot pass.
        for (int l = 1; l <= net.depth(); l++) {
            java.util.Arrays.fill(got.weights(l), Float.NaN);
            java.util.Arrays.fill(got.bias(l), Float.NaN);
        }
        double gotLoss = ex.gradient(data, loss, got);
        assertEquals(Double.doubleToRawLongBits(expectedLoss), Double.doubleToRawLongBits(gotLoss), spec + ": loss");
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(bits(expected.weights(l)), bits(got.weights(l)), spec + ": dL/dW^" + l);
            assertArrayEquals(bits(expected.bias(l)), bits(got.bias(l)), spec + ": dL/db^" + l);
        }
        RunStats run = ex.lastRun();
        PlanStats predicted = plan.stats();
        assertEquals(predicted.forwardEvaluations(), run.forwardEvaluations(), spec + ": forward evaluations");
        assertEquals(predicted.peakLiveBuffers(), run.peakLiveBuffers(), spec + ": peak live buffers");
        assertArrayEquals(predicted.evaluationsPerLayer(), run.evaluationsPerLayer(), spec + ": evaluations per layer");
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tanh", "sigmoid", "relu", "identity"})
    void everyPlanMatchesFullStorageOnARegressionChain(String act) {
        Activation f = Activation.parse(act);
        Network net = TestNets.withRandomBias(TestNets.chain(6, 13, 9, f, 3, Activation.IDENTITY, 7), 2);
        Batch data = TestNets.regression(net, 5, 4);
        for (String spec : PLANS) {
            assertSameAsFull(net, data, Loss.MSE, spec);
        }
    }

    @Test
    void everyPlanMatchesFullStorageWithSoftmaxCrossEntropyAndMixedWidths() {
        Network net = TestNets.withRandomBias(Network.builder(10).dense(3, 16, Activation.TANH).dense(4, Activation.RELU)
                .dense(5, 24, Activation.SIGMOID).dense(2, 8, Activation.TANH).dense(5, Activation.IDENTITY).build(3), 9);
        Batch data = TestNets.classification(net, 7, 8);
        for (String spec : PLANS) {
            assertSameAsFull(net, data, Loss.SOFTMAX_CROSS_ENTROPY, spec);
        }
    }

    /** Dropout masks are replayed exactly on recomputation; residual branches recomputed in the backward pass. */
    @Test
    void everyPlanMatchesFullStorageWithResidualBlocksAndDropout() {
        Network net = TestNets.withRandomBias(Network.builder(9).dense(12, Activation.TANH).residual(4, Activation.TANH)
                .dropout(0.25f).residual(3, Activation.RELU).dropout(0.5f).residual(2, Activation.SIGMOID)
                .dense(3, Activation.IDENTITY).build(17), 3);
        Batch data = TestNets.classification(net, 11, 2);
        for (String spec : PLANS) {
            assertSameAsFull(net, data, Loss.SOFTMAX_CROSS_ENTROPY, spec);
        }
    }

    /** The issue's acceptance shape: L = 64, width 32, batch 16, tanh. */
    @Test
    void issueShapeL64Width32Batch16() {
        Network net = TestNets.chain(32, 64, 32, Activation.TANH, 32, Activation.TANH, 64);
        Batch data = TestNets.regression(net, 16, 1);
        for (String spec : new String[] {"uniform:8", "sqrt", "binomial:4", "optimal:6"}) {
            assertSameAsFull(net, data, Loss.MSE, spec);
        }
        assertEquals(64 + (8 - 1) * (8 - 1), Planners.parse("uniform:8").plan(64).stats().forwardEvaluations());
    }

    /** L = 10,000: nothing in planning or execution may recurse per layer. */
    @Test
    void tenThousandLayersWithoutRecursionLimits() {
        Network net = TestNets.chain(3, 10_000, 3, Activation.TANH, 2, Activation.IDENTITY, 5);
        Batch data = TestNets.regression(net, 2, 6);
        for (String spec : new String[] {"sqrt", "binomial:6", "uniform:100"}) {
            assertSameAsFull(net, data, Loss.MSE, spec);
        }
        Plan opt = Planners.parse("optimal:200").plan(10_000);
        assertTrue(opt.stats().peakLiveBuffers() <= 200);
    }
}
