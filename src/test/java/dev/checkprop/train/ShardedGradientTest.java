package dev.checkprop.train;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.MicroBatches;
import dev.checkprop.exec.Shards;
import dev.checkprop.memory.HeapBudget;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shard split and combination rule, and {@code grad --shards K}'s engine, against micro-batching. */
class ShardedGradientTest {

    private final Network net = TestNets.withRandomBias(TestNets.chain(5, 6, 9, Activation.TANH, 3, Activation.IDENTITY, 7), 8);

    @Test
    void splitIsCeilingSizedContiguousRanges() {
        assertEquals(3, Shards.size(10, 4));
        assertEquals(4, Shards.count(10, 4));
        assertEquals(9, Shards.from(10, 4, 3));
        assertEquals(10, Shards.to(10, 4, 3));
        // 9 rows in 4 parts: 3, 3, 3 and an empty fourth.
        assertEquals(3, Shards.count(9, 4));
        assertEquals(9, Shards.from(9, 4, 3));
        assertEquals(9, Shards.to(9, 4, 3));
        assertEquals(1, Shards.size(3, 7));
        assertThrows(IllegalArgumentException.class, () -> Shards.size(0, 2));
        assertThrows(IllegalArgumentException.class, () -> Shards.size(5, 0));
        assertThrows(IndexOutOfBoundsException.class, () -> Shards.from(5, 2, 2));
    }

    /** K shards are K micro-batches: one rule, the same bits, whatever plan each shard runs. */
    @Test
    void shardsGiveTheBitsOfMicroBatchesForEveryPlan() {
        for (Loss loss : new Loss[] {Loss.MSE, Loss.SOFTMAX_CROSS_ENTROPY}) {
            Batch data = TestNets.batch(net, loss, 23, 4);
            for (int k : new int[] {1, 2, 3, 5, 23}) {
                Gradients expected = Gradients.zerosLike(net);
                double expectedLoss;
                try (Executor ex = new Executor(net, Planners.parse("full").plan(net.depth()), Shards.size(23, k))) {
                    expectedLoss = new MicroBatches(ex, k).gradient(data, loss, expected);
                }
                for (String plan : new String[] {"full", "sqrt", "binomial:2", "auto"}) {
                    Gradients g = Gradients.zerosLike(net);
                    double value = ShardedGradient.gradient(net, data, loss, plan, k, 2, 0, "test", g);
                    String what = loss + ", " + k + " shards, plan " + plan;
                    assertEquals(Double.doubleToLongBits(expectedLoss), Double.doubleToLongBits(value), what);
                    for (int l = 1; l <= net.depth(); l++) {
                        assertArrayEquals(bits(expected.weights(l)), bits(g.weights(l)), what + ", layer " + l);
                        assertArrayEquals(bits(expected.bias(l)), bits(g.bias(l)), what + ", layer " + l);
                    }
                }
            }
        }
    }

    @Test
    void oneShardIsThePlainGradient() {
        Batch data = TestNets.regression(net, 11, 3);
        Gradients plain = Gradients.zerosLike(net);
        double plainLoss;
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), 11)) {
            plainLoss = ex.gradient(data, Loss.MSE, plain);
        }
        Gradients g = Gradients.zerosLike(net);
        assertEquals(Double.doubleToLongBits(plainLoss),
                Double.doubleToLongBits(ShardedGradient.gradient(net, data, Loss.MSE, "full", 1, 1, 0, "t", g)));
        assertTrue(plain.bitEquals(g));
    }

    @Test
    void aShardThatDoesNotFitIsRefusedNamingItAndThePlan() {
        String shard = ShardedGradient.name(1, 4, 6, 12, "d.safetensors");
        assertEquals("shard 1 of 4 (rows 6..11 of d.safetensors)", shard);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ShardedGradient.select("full", net, 6,
                false, new long[0], StateModel.Mode.GRADIENT, 1000, shard));
        assertTrue(e.getMessage().startsWith(shard + ": plan full needs "), e.getMessage());
        assertTrue(e.getMessage().contains("but this JVM can give " + HeapBudget.human(1000)), e.getMessage());
        IllegalStateException auto = assertThrows(IllegalStateException.class, () -> ShardedGradient.select("auto", net, 6,
                false, new long[0], StateModel.Mode.GRADIENT, 1000, shard));
        assertTrue(auto.getMessage().startsWith(shard + ": "), auto.getMessage());
    }

    static int[] bits(float[] a) {
        int[] b = new int[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }
}
