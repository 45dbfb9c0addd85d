package dev.checkprop.train;

import dev.checkprop.data.Batcher;
import dev.checkprop.data.Dataset;
import dev.checkprop.data.Synthetic;
import dev.checkprop.exec.Executor;
import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End-to-end smoke tests: batches from the data package, gradients from the executor, updates from an optimizer. */
class TrainingTest {

    /** Mean loss over the whole dataset, with an executor sized for all of it. */
    private static double fullLoss(Network net, Dataset data, Loss loss) {
        try (Executor exec = new Executor(net, Planners.parse("full").plan(net.depth()), data.size())) {
            return exec.gradient(data.toBatch(), loss, Gradients.zerosLike(net));
        }
    }

    @Test
    void adamFitsATeacherRegressionTaskTenfold() {
        Dataset data = Synthetic.teacher(512, 4, 2, 16, 3, 7);
        Network net = Network.builder(4).dense(2, 32, Activation.TANH).dense(2, Activation.IDENTITY).build(11);
        Batcher batcher = new Batcher(data, 64, 3);
        Optimizer opt = new Adam(net, LearningRate.constant(0.01));
        Gradients g = Gradients.zerosLike(net);
        double before = fullLoss(net, data, Loss.MSE);
        try (Executor exec = new Executor(net, Planners.parse("full").plan(net.depth()), batcher.batchSize())) {
            for (int s = 0; s < 300; s++) {
                exec.gradient(batcher.batch(s), Loss.MSE, g);
                opt.step(g, s);
            }
        }
        double after = fullLoss(net, data, Loss.MSE);
        assertTrue(after * 10 <= before, "loss went from " + before + " to " + after);
    }

    @Test
    void adamLearnsTheSpirals() {
        Dataset data = Synthetic.spirals(512, 0.02, 5);
        Network net = Network.builder(2).dense(2, 32, Activation.RELU).dense(2, Activation.IDENTITY).build(13);
        Batcher batcher = new Batcher(data, 64, 9);
        int steps = 3000;
        Optimizer opt = new Adam(net, LearningRate.cosine(0.02, 0.001, steps));
        Gradients g = Gradients.zerosLike(net);
        try (Executor exec = new Executor(net, Planners.parse("full").plan(net.depth()), batcher.batchSize())) {
            for (int s = 0; s < steps; s++) {
                exec.gradient(batcher.batch(s), Loss.SOFTMAX_CROSS_ENTROPY, g);
                opt.step(g, s);
            }
        }
        double acc = accuracy(net, data);
        assertTrue(acc >= 0.99, "accuracy " + acc);
    }

    @Test
    void trainingIsReproducibleBitForBit() {
        float[][] first = trainBriefly();
        float[][] second = trainBriefly();
        for (int t = 0; t < first.length; t++) {
            assertArrayEquals(first[t], second[t], "tensor " + t);
        }
    }

    /** 50 AdamW steps with a warmup-cosine schedule on teacher data; answers every parameter tensor. */
    private static float[][] trainBriefly() {
        Dataset data = Synthetic.teacher(100, 3, 2, 8, 2, 21);
        Network net = Network.builder(3).dense(16, Activation.TANH).dense(2, Activation.IDENTITY).build(5);
        Batcher batcher = new Batcher(data, 32, 8);
        Optimizer opt = new AdamW(net, LearningRate.parse("cosine:5:0.001", 0.01, 50));
        Gradients g = Gradients.zerosLike(net);
        try (Executor exec = new Executor(net, Planners.parse("full").plan(net.depth()), batcher.batchSize())) {
            for (int s = 0; s < 50; s++) {
                exec.gradient(batcher.batch(s), Loss.MSE, g);
                opt.step(g, s);
            }
        }
        return new float[][] {net.layer(1).weights(), net.layer(1).bias(), net.layer(2).weights(), net.layer(2).bias()};
    }

    /** Fraction of samples whose largest logit is the label's, by a plain double-precision forward pass. */
    static double accuracy(Network net, Dataset data) {
        int right = 0;
        for (int i = 0; i < data.size(); i++) {
            double[] a = new double[data.inputWidth()];
            for (int k = 0; k < a.length; k++) {
                a[k] = data.input(i, k);
            }
            for (Layer d : net.layers()) {
                double[] z = new double[d.outputWidth()];
                for (int o = 0; o < z.length; o++) {
                    double s = d.bias()[o];
                    for (int k = 0; k < d.inputWidth(); k++) {
                        s += d.weights()[o * d.inputWidth() + k] * a[k];
                    }
                    z[o] = ((AffineLayer) d).activation() == Activation.TANH ? Math.tanh(s) : ((AffineLayer) d).activation() == Activation.RELU ? Math.max(0, s) : s;
                }
                a = z;
            }
            int best = 0;
            for (int u = 1; u < a.length; u++) {
                if (a[u] > a[best]) {
                    best = u;
                }
            }
            right += best == data.label(i) ? 1 : 0;
        }
        return (double) right / data.size();
    }
}
