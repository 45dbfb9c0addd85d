package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MicroBatchesTest {

    private final Network net = TestNets.withRandomBias(TestNets.chain(6, 7, 10, Activation.TANH, 4, Activation.IDENTITY, 3), 4);

    /** An executor sized for more samples than it is given computes exactly what a tight one does. */
    @Test
    void smallerBatchThanCapacityIsBitIdentical() {
        Plan plan = Planners.parse("binomial:3").plan(net.depth());
        Batch data = TestNets.classification(net, 9, 5);
        Gradients tight = Gradients.zerosLike(net);
        Gradients roomy = Gradients.zerosLike(net);
        double a;
        double b;
        try (Executor e1 = new Executor(net, plan, 9); Executor e2 = new Executor(net, plan, 40)) {
            a = e1.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, tight);
            b = e2.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, roomy);
            assertThrows(IllegalArgumentException.class,
                    () -> e1.gradient(TestNets.classification(net, 10, 5), Loss.SOFTMAX_CROSS_ENTROPY, tight));
        }
        assertEquals(a, b, 0.0);
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(PlanEquivalenceTest.bits(tight.weights(l)), PlanEquivalenceTest.bits(roomy.weights(l)));
        }
    }

    /**
     * k micro-batches give the whole batch's gradient up to float rounding of the regrouped sums:
     * compared with the double-precision reference at the bound of GradientCorrectnessTest.
     */
    @Test
    void accumulatedGradientMatchesTheWholeBatch() {
        Batch data = TestNets.regression(net, 23, 8);
        DoubleReference ref = new DoubleReference(net);
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        double refLoss = ref.lossAndGradients(data, Loss.MSE, gw, gb);
        for (int k : new int[] {1, 2, 3, 5, 23}) {
            int size = (23 + k - 1) / k;
            try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), size)) {
                MicroBatches mb = new MicroBatches(ex, k);
                Gradients g = Gradients.zerosLike(net);
                double loss = mb.gradient(data, Loss.MSE, g);
                assertEquals(refLoss, loss, 1e-5 * Math.abs(refLoss), "loss with " + k + " micro-batches");
                for (int l = 1; l <= net.depth(); l++) {
                    double scale = GradientCorrectnessTest.maxAbs(gw[l]);
                    for (int j = 0; j < gw[l].length; j++) {
                        assertEquals(gw[l][j], g.weights(l)[j], 1e-4 * scale, k + " micro-batches, dW^" + l + "[" + j + "]");
                    }
                }
                // The slices are refilled in place on later calls: run another batch of the same size
                // first, so that stale slice contents would show.
                Gradients again = Gradients.zerosLike(net);
                mb.gradient(TestNets.regression(net, 23, 99), Loss.MSE, again);
                mb.gradient(data, Loss.MSE, again);
                assertEquals(true, again.bitEquals(g), "refilled slices give the same bits as fresh ones");
            }
        }
    }
}
