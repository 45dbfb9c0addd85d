package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The JIT warm-up an executor runs when it is built changes no result: a network of every layer
 * kind gives the same bits whether its shapes were warmed up or not, and the warm-up's estimate of
 * its own memory covers what its two-layer networks hold.
 */
class WarmUpTest {

    private static Network net() {
        return TestNets.withRandomBias(Network.builder(6).dense(20, Activation.TANH).residual(2, Activation.RELU)
                .dropout(0.25f).dense(13, Activation.SIGMOID).dense(3, Activation.IDENTITY).build(71), 72);
    }

    private static Gradients gradients(boolean warmUp) {
        String before = System.getProperty(WarmUp.PROPERTY);
        System.setProperty(WarmUp.PROPERTY, Boolean.toString(warmUp));
        try {
            Network net = net();
            Batch data = TestNets.regression(net, 21, 73);
            try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), data.size(), Kernels.get(), 2)) {
                ex.setStep(3);
                Gradients g = Gradients.zerosLike(net);
                ex.gradient(data, Loss.MSE, g);
                return g;
            }
        } finally {
            if (before == null) {
                System.clearProperty(WarmUp.PROPERTY);
            } else {
                System.setProperty(WarmUp.PROPERTY, before);
            }
        }
    }

    @Test
    void warmingUpChangesNoBit() {
        Gradients cold = gradients(false);
        Gradients warm = gradients(true);
        Network net = net();
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(PlanEquivalenceTest.bits(cold.weights(l)), PlanEquivalenceTest.bits(warm.weights(l)), "W" + l);
            assertArrayEquals(PlanEquivalenceTest.bits(cold.bias(l)), PlanEquivalenceTest.bits(warm.bias(l)), "b" + l);
        }
    }

    @Test
    void itsMemoryEstimateCoversItsNetworks() {
        Network net = net();
        Network pair = new Network(List.of(net.layer(1), net.layer(2)));
        long activations = 4L * 21 * (pair.width(0) + pair.width(1) + pair.width(2));
        long parameters = 4L * pair.parameterCount();
        assertTrue(WarmUp.bytes(pair, 21) >= 2 * activations + 2 * parameters, "estimate " + WarmUp.bytes(pair, 21));
    }
}
