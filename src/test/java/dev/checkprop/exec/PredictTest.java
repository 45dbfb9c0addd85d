package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PredictTest {

    /**
     * Inference runs the same kernels as the training forward, so the MSE recomputed from its
     * outputs, in the loss's own order, equals the loss of a gradient computation bit for bit.
     */
    @Test
    void predictionsReproduceTheTrainingForwardExactly() {
        Network net = TestNets.withRandomBias(Network.builder(5).dense(9, Activation.TANH).residual(2, Activation.RELU)
                .dense(4, Activation.SIGMOID).build(8), 2);
        Batch data = TestNets.regression(net, 13, 4);
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), 20, 
                dev.checkprop.kernel.Kernels.get(), 2)) {
            double loss = ex.gradient(data, Loss.MSE, Gradients.zerosLike(net));
            float[] out = new float[13 * 4];
            ex.predict(data, out);
            double total = 0;
            for (int i = 0; i < 13; i++) {
                double c = 0;
                for (int u = 0; u < 4; u++) {
                    float d = out[i * 4 + u] - data.targets()[i * 4 + u];
                    c += (double) d * d;
                }
                total += 0.5 * c;
            }
            assertEquals(loss, total / 13, 0.0);
        }
    }

    /** Dropout is the identity at inference. */
    @Test
    void dropoutPassesThroughAtInference() {
        Network with = Network.builder(3).dense(6, Activation.TANH).dropout(0.5f).dense(2, Activation.IDENTITY).build(4);
        Network without = new Network(java.util.List.of(with.layer(1), with.layer(3)));
        Batch data = TestNets.regression(with, 7, 1);
        float[] a = new float[14];
        float[] b = new float[14];
        try (Executor e1 = new Executor(with, Planners.parse("full").plan(3), 7);
             Executor e2 = new Executor(without, Planners.parse("full").plan(2), 7)) {
            e1.predict(data, a);
            e2.predict(data, b);
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(b, a);
    }
}
