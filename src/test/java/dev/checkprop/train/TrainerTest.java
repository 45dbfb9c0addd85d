package dev.checkprop.train;

import dev.checkprop.data.Batcher;
import dev.checkprop.data.Dataset;
import dev.checkprop.data.Synthetic;
import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {

    private static Network net() {
        return Network.builder(2).dense(16, Activation.TANH).residual(6, Activation.TANH).dropout(0.1f)
                .residual(6, Activation.TANH).dense(2, Activation.IDENTITY).build(5);
    }

    /** Runs 60 steps and answers every step's loss, bit for bit. */
    private static long[] run(Network net, String plan, int threads) {
        Dataset data = Synthetic.spirals(256, 0.02, 3);
        Batcher batcher = new Batcher(data, 32, 7);
        long[] losses = new long[60];
        Optimizer opt = new Adam(net, LearningRate.constant(3e-3));
        try (Trainer t = new Trainer(net, Loss.SOFTMAX_CROSS_ENTROPY, batcher, opt,
                Planners.parse(plan).plan(net.depth()), 1, 32, threads)) {
            for (int s = 0; s < losses.length; s++) {
                losses[s] = Double.doubleToRawLongBits(t.step(s));
            }
        }
        return losses;
    }

    /**
     * Loss curves of full storage and checkpointed training, with dropout on, are identical to the
     * last bit, and so are the trained weights: every step's gradient is byte-identical.
     */
    @Test
    void lossCurvesAreIdenticalAcrossPlansAndThreads() {
        Network a = net();
        Network b = net();
        Network c = net();
        long[] full = run(a, "full", 1);
        long[] sqrt = run(b, "sqrt", 2);
        long[] binomial = run(c, "binomial:3", 2);
        assertArrayEquals(full, sqrt);
        assertArrayEquals(full, binomial);
        for (int l = 1; l <= a.depth(); l++) {
            assertArrayEquals(a.layer(l).weights(), b.layer(l).weights(), "layer " + l);
            assertArrayEquals(a.layer(l).weights(), c.layer(l).weights(), "layer " + l);
        }
        assertTrue(Double.longBitsToDouble(full[59]) < Double.longBitsToDouble(full[0]), "the loss went down");
    }

    @Test
    void evaluationCountsAccuracy() {
        Network net = net();
        Dataset data = Synthetic.spirals(64, 0.02, 3);
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), 16)) {
            Evaluation e = Evaluation.of(ex, data, Loss.SOFTMAX_CROSS_ENTROPY);
            float[] out = new float[64 * 2];
            ex.predict(data.toBatch().slice(0, 16), out);
            int hits = 0;
            for (int from = 0; from < 64; from += 16) {
                ex.predict(data.toBatch().slice(from, from + 16), out);
                for (int i = 0; i < 16; i++) {
                    int arg = out[i * 2 + 1] > out[i * 2] ? 1 : 0;
                    hits += arg == data.label(from + i) ? 1 : 0;
                }
            }
            org.junit.jupiter.api.Assertions.assertEquals(hits / 64.0, e.accuracy(), 0.0);
            assertTrue(e.samples() == 64 && e.loss() > 0);
        }
    }
}
