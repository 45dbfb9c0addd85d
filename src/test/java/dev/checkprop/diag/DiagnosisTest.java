package dev.checkprop.diag;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiagnosisTest {

    /**
     * A network with dead units built on purpose: relu units whose bias is -100 never fire, a tanh
     * unit with bias +60 saturates at exactly 1, a whole relu layer is dead, and two columns of a
     * weight matrix are zeroed. The diagnosis must find those, and only those, under any plan.
     */
    @Test
    void findsTheDeadUnitsBuiltOnPurposeAndOnlyThose() {
        Network net = Network.builder(6).dense(10, Activation.RELU).dense(8, Activation.TANH).dense(5, Activation.RELU)
                .dense(7, Activation.SIGMOID).dense(3, Activation.IDENTITY).build(3);
        net.layer(1).bias()[2] = -100f;
        net.layer(1).bias()[7] = -100f;
        net.layer(2).bias()[4] = 60f;
        java.util.Arrays.fill(net.layer(3).bias(), -100f);
        float[] w5 = net.layer(5).weights();
        for (int o = 0; o < 3; o++) {
            w5[o * 7 + 1] = 0f;
            w5[o * 7 + 6] = 0f;
        }
        float[] x = new float[16 * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = 2f * Seeds.uniform(9, 1, i) - 1f;
        }
        int[] labels = new int[16];
        java.util.Arrays.setAll(labels, i -> i % 3);
        Batch data = Batch.classification(x, 6, labels);
        Diagnosis first = null;
        for (String spec : new String[] {"full", "binomial:2", "optimal:3"}) {
            try (Executor ex = new Executor(net, Planners.parse(spec).plan(net.depth()), 16)) {
                Diagnosis d = Diagnosis.run(ex, data, Loss.SOFTMAX_CROSS_ENTROPY, Gradients.zerosLike(net));
                assertArrayEquals(new int[] {2, 7}, d.layers().get(0).deadUnits(), spec);
                assertArrayEquals(new int[] {4}, d.layers().get(1).deadUnits(), spec);
                assertArrayEquals(new int[] {0, 1, 2, 3, 4}, d.layers().get(2).deadUnits(), spec);
                assertArrayEquals(new int[0], d.layers().get(3).deadUnits(), spec);
                assertArrayEquals(new int[0], d.layers().get(4).deadUnits(), spec);
                assertEquals(java.util.List.of(d.layers().get(2)), d.deadLayers(), spec);
                assertArrayEquals(new int[] {1, 6}, d.layers().get(3).zeroColumns(), spec);
                for (int l = 0; l < 3; l++) {
                    assertArrayEquals(new int[0], d.layers().get(l).zeroColumns(), spec + " layer " + (l + 1));
                }
                // Behind a dead layer, backpropagation stops: layers 1..3 get exactly zero gradient.
                assertEquals(0.0, d.layers().get(0).weightGradNorm(), spec);
                assertEquals(0.0, d.layers().get(2).weightGradNorm(), spec);
                assertTrue(d.layers().get(4).weightGradNorm() > 0, spec);
                assertTrue(d.toTable().contains("<- dead layer"));
                if (first == null) {
                    first = d;
                } else {
                    assertEquals(first.toTable(), d.toTable(), spec + " differs from full");
                }
            }
        }
    }

    @Test
    void aHealthyNetworkHasNoDeadUnits() {
        Network net = Network.builder(4).dense(3, 12, Activation.TANH).dense(2, Activation.IDENTITY).build(5);
        float[] x = new float[8 * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = Seeds.uniform(2, 1, i) - 0.5f;
        }
        Batch data = Batch.regression(x, 4, new float[16], 2);
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(4), 8)) {
            Diagnosis d = Diagnosis.run(ex, data, Loss.MSE, Gradients.zerosLike(net));
            for (Diagnosis.Layer r : d.layers()) {
                assertEquals(0, r.deadUnits().length, "layer " + r.layer());
                assertFalse(r.isDead());
            }
        }
    }
}
