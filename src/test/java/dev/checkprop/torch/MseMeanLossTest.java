package dev.checkprop.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.exec.Executor;
import dev.checkprop.hvp.Directions;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.LossCurvature;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;

/**
 * {@link Loss#MSE_MEAN}, torch.nn.MSELoss(): (1/(N n_L)) &Sigma; (a &minus; y)&sup2;, its gradient and its
 * curvature, by hand and against {@link Loss#MSE}, which is n_L/2 times it.
 */
class MseMeanLossTest {

    @Test
    void valueAndGradientByHand() {
        // N = 2 samples, n_L = 3 outputs; a is unit-major [3, 2], y sample-major [2, 3].
        float[] a = {1f, 0.5f, -2f, 0f, 3f, 0.25f};
        float[] y = {0f, 1f, 1f, 1f, 0f, 0f};
        Batch batch = Batch.regression(new float[2], 1, y, 3);
        float[] delta = new float[6];
        double loss = Loss.MSE_MEAN.lossAndGradient(a, 3, batch, delta);
        // d = a - y per (u, i): u0: 1-0, 0.5-1; u1: -2-1, 0-0; u2: 3-1, 0.25-0.
        double[] d = {1, -0.5, -3, 0, 2, 0.25};
        double sum = 0;
        for (double v : d) {
            sum += v * v;
        }
        assertEquals(sum / 6, loss, 1e-15);
        for (int j = 0; j < 6; j++) {
            assertEquals((float) (2 * d[j] / 6), delta[j], "delta[" + j + "]");
        }
        // mse on the same: (1/N) sum 1/2 |d|^2 = n_L/2 times mse-mean.
        float[] deltaMse = new float[6];
        assertEquals(1.5 * loss, Loss.MSE.lossAndGradient(a, 3, batch, deltaMse), 1e-15);

        // R{g} = 2 R{a} / (N n_L), for both curvatures alike (the loss's Hessian is kept in both).
        float[] r = {0.5f, -1f, 2f, 0f, 1f, -3f};
        float[] rDelta = new float[6];
        LossCurvature.rGradient(Loss.MSE_MEAN, a, r, 3, batch, rDelta);
        for (int j = 0; j < 6; j++) {
            assertEquals((float) (2.0 * r[j] / 6), rDelta[j]);
        }
    }

    @Test
    void parsedByNameAndListedInTheError() {
        assertEquals(Loss.MSE_MEAN, Loss.parse("mse-mean"));
        assertEquals("mse-mean", Loss.MSE_MEAN.cliName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Loss.parse("l2"));
        assertEquals("unknown loss 'l2' (expected mse, mse-mean or softmax-ce)", e.getMessage());
    }

    @Test
    void needsTargetsOfTheOutputWidth() {
        Network net = TestNets.chain(3, 2, 4, Activation.TANH, 2, Activation.IDENTITY, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Loss.MSE_MEAN.checkCompatible(net, TestNets.classification(net, 3, 1)));
        assertEquals("loss mse-mean needs targets y [N, 2], the data has labels", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Loss.MSE_MEAN.checkCompatible(net,
                Batch.regression(new float[3], 3, new float[3], 3)));
        assertTrue(e.getMessage().contains("targets y have width 3 but the network's output a^L has width 2"), e.getMessage());
    }

    @Test
    void gradientsAndCurvatureProductsAreTwoOverNLTimesThoseOfMse() {
        Network net = TestNets.withRandomBias(TestNets.withLayerNorms(
                TestNets.chain(5, 4, 9, Activation.TANH, 4, Activation.IDENTITY, 3), 4, 2), 5);
        Batch batch = TestNets.regression(net, 7, 8);
        int nL = net.outputWidth();
        float scale = 2f / nL;
        try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), 7, Kernels.get(), 1)) {
            Gradients gMse = Gradients.zerosLike(net);
            Gradients gMean = Gradients.zerosLike(net);
            double mse = ex.gradient(batch, Loss.MSE, gMse);
            double mean = ex.gradient(batch, Loss.MSE_MEAN, gMean);
            assertEquals(mse * scale, mean, 1e-12 * mse);
            assertScaled(gMse, gMean, scale, net, "gradient");
            Gradients v = Directions.uniform(net, 9);
            for (Curvature c : Curvature.values()) {
                Gradients hMse = Gradients.zerosLike(net);
                Gradients hMean = Gradients.zerosLike(net);
                ex.hessianVector(batch, Loss.MSE, v, null, hMse, c);
                ex.hessianVector(batch, Loss.MSE_MEAN, v, null, hMean, c);
                assertScaled(hMse, hMean, scale, net, c + " product");
            }
        }
    }

    @Test
    void everyPlanGivesTheSameBits() {
        Network net = TestNets.withRandomBias(TestNets.chain(4, 12, 6, Activation.RELU, 3, Activation.IDENTITY, 4), 6);
        Batch batch = TestNets.regression(net, 5, 9);
        Gradients reference = null;
        for (String plan : new String[] {"full", "sqrt", "binomial:3", "uniform:4"}) {
            try (Executor ex = new Executor(net, Planners.parse(plan).plan(net.depth()), 5)) {
                Gradients g = Gradients.zerosLike(net);
                ex.gradient(batch, Loss.MSE_MEAN, g);
                if (reference == null) {
                    reference = g;
                    continue;
                }
                for (int l = 1; l <= net.depth(); l++) {
                    assertArrayEquals(reference.weights(l), g.weights(l), plan + " layer " + l);
                    assertArrayEquals(reference.bias(l), g.bias(l), plan + " layer " + l);
                }
            }
        }
    }

    /** b = scale a, within float rounding of the two losses' different divisions. */
    private static void assertScaled(Gradients a, Gradients b, float scale, Network net, String what) {
        double max = 0;
        double worst = 0;
        for (int l = 1; l <= net.depth(); l++) {
            for (float[][] pair : new float[][][] {{a.weights(l), b.weights(l)}, {a.bias(l), b.bias(l)}}) {
                for (int j = 0; j < pair[0].length; j++) {
                    max = Math.max(max, Math.abs(pair[0][j] * scale));
                    worst = Math.max(worst, Math.abs(pair[0][j] * scale - pair[1][j]));
                }
            }
        }
        assertTrue(max > 0, what + " is zero");
        assertTrue(worst <= 1e-6 * max, what + ": largest difference " + worst + " against largest element " + max);
    }
}
