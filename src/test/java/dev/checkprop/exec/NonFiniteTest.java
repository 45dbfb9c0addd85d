package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Curvature;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Issue 13, case 3: finite inputs whose results overflow are an exception naming the first layer, not NaN output. */
class NonFiniteTest {

    private static Network net() {
        return TestNets.chain(4, 5, 6, Activation.IDENTITY, 2, Activation.IDENTITY, 3);
    }

    private static Batch batch(float targetScale) {
        return Batch.regression(TestNets.uniform(8 * 4, 2, 1, 1f), 4, TestNets.uniform(8 * 2, 2, 2, targetScale), 2);
    }

    @Test
    void hugeWeightsNameTheLayerWhereTheForwardPassOverflows() {
        Network net = net();
        // Layer 3 of 5: a^2 = 10 everywhere, so 6 products of 3e38 * 10 overflow in a^3.
        Arrays.fill(net.layer(2).weights(), 0f);
        Arrays.fill(net.layer(2).bias(), 10f);
        Arrays.fill(net.layer(3).weights(), 3e38f);
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(5), 8, Kernels.get(), 1)) {
            NonFiniteException e = assertThrows(NonFiniteException.class,
                    () -> ex.gradient(batch(1f), Loss.MSE, Gradients.zerosLike(net)));
            assertEquals(3, e.layer());
            assertEquals("non-finite result: the forward pass overflows at layer 3 (layers.2, dense identity, 6 x 6 weights"
                    + " up to |w| = 3.00e+38): its output a^3 is NaN or infinite although its input is finite;"
                    + " the loss is NaN and nothing was written", e.getMessage());
            // The executor is still usable once the weights are sane again.
            Arrays.fill(net.layer(3).weights(), 0.1f);
            ex.gradient(batch(1f), Loss.MSE, Gradients.zerosLike(net));
        }
    }

    @Test
    void hugeTargetsNameTheLoss() {
        Network net = net();
        try (Executor ex = new Executor(net, Planners.parse("full").plan(5), 8, Kernels.get(), 1)) {
            // Outputs near -3e38 against targets near +3e38: each is a float, their difference is not.
            Arrays.fill(net.layer(5).bias(), -3e38f);
            Batch b = batch(3e38f);
            double maxY = 0;
            for (float y : b.targets()) {
                maxY = Math.max(maxY, Math.abs(y));
            }
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> ex.gradient(b, Loss.MSE, Gradients.zerosLike(net)));
            assertEquals(0, e.layer());
            assertEquals("non-finite result: every layer's output is finite but the mse loss is Infinity (targets or"
                    + " outputs too large for float range, largest |y| = " + String.format(java.util.Locale.ROOT, "%.3g", maxY)
                    + "); nothing was written", e.getMessage());
        }
    }

    @Test
    void hugeDirectionsNameTheProduct() {
        Network net = net();
        Gradients v = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            Arrays.fill(v.weights(l), 3e38f);
        }
        try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(5), 8, Kernels.get(), 1)) {
            NonFiniteException e = assertThrows(NonFiniteException.class, () -> ex.hessianVector(batch(1f), Loss.MSE, v,
                    Gradients.zerosLike(net), Gradients.zerosLike(net), Curvature.GAUSS_NEWTON));
            assertEquals(5, e.layer());
            assertEquals(true, e.getMessage().startsWith("non-finite result: the loss is "), e.getMessage());
            assertEquals(true, e.getMessage().endsWith(" but the curvature product of layer 5 (layers.4) is NaN or infinite,"
                    + " the first the backward pass reaches (is the direction too large?); nothing was written"), e.getMessage());
        }
    }
}
