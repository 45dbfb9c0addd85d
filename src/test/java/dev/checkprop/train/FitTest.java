package dev.checkprop.train;

import dev.checkprop.data.Dataset;
import dev.checkprop.data.Synthetic;
import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import dev.checkprop.kernel.Kernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@link Training} API: fit, listeners, history, early stopping, prediction and checkpoints that resume bit for bit. */
class FitTest {

    @TempDir
    Path dir;

    /** Dense, residual, dropout and LayerNorm layers: every kind a checkpoint must carry. */
    private static Network net(long seed) {
        return Network.builder(2).dense(16, Activation.TANH).residual(4, Activation.TANH).dropout(0.1f).layerNorm()
                .residual(4, Activation.RELU).dense(2, Activation.IDENTITY).build(seed);
    }

    private static final Dataset DATA = Synthetic.spirals(400, 1, 0.02, 3);

    private static Training config(Network net, String optimizer) {
        return Training.of(net).optimizer(optimizer).learningRate(3e-3).schedule("cosine:3").batch(32).epochs(3)
                .seed(7).threads(2).plan("sqrt");
    }

    private static long[] bits(float[] a) {
        long[] b = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = Float.floatToRawIntBits(a[i]);
        }
        return b;
    }

    private static void assertSameWeights(Network a, Network b) {
        assertEquals(a.depth(), b.depth());
        for (int l = 1; l <= a.depth(); l++) {
            assertArrayEquals(bits(a.layer(l).weights()), bits(b.layer(l).weights()), "weights of layer " + l);
            assertArrayEquals(bits(a.layer(l).bias()), bits(b.layer(l).bias()), "bias of layer " + l);
        }
    }

    private static List<Long> lossBits(List<History.Epoch> epochs) {
        List<Long> out = new ArrayList<>();
        for (History.Epoch e : epochs) {
            out.add(Double.doubleToRawLongBits(e.trainLoss()));
            out.add(Double.doubleToRawLongBits(e.heldOutLoss()));
            out.add(Double.doubleToRawLongBits(e.heldOutAccuracy()));
            out.add(e.step());
        }
        return out;
    }

    /**
     * N steps straight, against k steps, a checkpoint file, then new objects (network read from the
     * checkpoint, new optimizer, new executor, a different plan and thread count) resuming for the
     * N - k steps left: the same step losses, epoch history and weights, bit for bit. k falls inside an
     * epoch, so the running epoch loss is carried too.
     */
    @Test
    void aResumedRunIsBitIdenticalToAnUninterruptedOne() throws IOException {
        for (String optimizer : new String[] {"adam", "momentum", "adamw", "hessian-free"}) {
            List<Long> straightSteps = new ArrayList<>();
            Network straight = net(11);
            History full;
            try (Training t = config(straight, optimizer).onStep(s -> straightSteps.add(Double.doubleToRawLongBits(s.loss())))) {
                full = t.fit(DATA);
                assertEquals(3L * (320 / 32), t.step());
            }
            final long k = 13;
            List<Long> resumedSteps = new ArrayList<>();
            Path ck = dir.resolve(optimizer + ".ckpt");
            Training first = config(net(11), optimizer);
            first.onStep(s -> {
                resumedSteps.add(Double.doubleToRawLongBits(s.loss()));
                if (s.step() == k - 1) {
                    first.stop();
                }
            });
            try (first) {
                History part = first.fit(DATA);
                assertEquals(k, first.step());
                assertEquals(1, part.epochs().size());
                first.checkpoint(ck);
            }
            Checkpoint read = Checkpoint.read(ck);
            assertEquals(k, read.step());
            Network again = read.network();
            History resumed;
            try (Training t = config(again, optimizer).plan("full").threads(1).resume(read)
                    .onStep(s -> resumedSteps.add(Double.doubleToRawLongBits(s.loss())))) {
                resumed = t.fit(DATA);
                assertEquals(30, t.step());
            }
            assertEquals(straightSteps, resumedSteps, optimizer + ": step losses");
            assertEquals(lossBits(full.epochs()), lossBits(resumed.epochs()), optimizer + ": epoch history");
            assertSameWeights(straight, again);
        }
    }

    /** A checkpoint refuses a run that is not the one it came from, naming each difference. */
    @Test
    void resumingADifferentRunIsRefused() throws IOException {
        Path ck = dir.resolve("run.ckpt");
        try (Training t = config(net(11), "adam").epochs(1)) {
            t.fit(DATA);
            t.checkpoint(ck);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> config(net(11), "adam").batch(16).seed(8).learningRate(1e-2).resume(ck).fit(DATA));
        assertTrue(e.getMessage().contains("batch 16 (checkpoint: 32)"), e.getMessage());
        assertTrue(e.getMessage().contains("seed 8 (checkpoint: 7)"), e.getMessage());
        assertTrue(e.getMessage().contains("optimizer adam(lr=cosine(0.01"), e.getMessage());
        assertTrue(e.getMessage().contains("the data or its held-out split"), e.getMessage());
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> Training.of(
                Network.builder(2).dense(8, Activation.TANH).dense(2, Activation.IDENTITY).build(1)).resume(ck));
        assertTrue(shape.getMessage().contains("layers"), shape.getMessage());
        Files.writeString(dir.resolve("not.ckpt"), "nonsense");
        assertThrows(IOException.class, () -> Checkpoint.read(dir.resolve("not.ckpt")));
        // A checkpoint given where a model is expected says what it is and what to do.
        IOException asModel = assertThrows(IOException.class, () -> dev.checkprop.io.ModelFile.load(ck));
        assertTrue(asModel.getMessage().startsWith(ck + " is a training checkpoint, not a model file: continue its run with"
                + " train --resume " + ck), asModel.getMessage());
    }

    /** Listeners see every step and epoch; the history holds what the epoch listener saw. */
    @Test
    void listenersAndHistory() {
        List<Training.Step> steps = new ArrayList<>();
        List<History.Epoch> epochs = new ArrayList<>();
        try (Training t = config(net(3), "adam").onStep(steps::add).onEpoch(epochs::add).diagnoseDeadLayers(true)) {
            History h = t.fit(DATA);
            assertEquals(30, steps.size());
            assertEquals(0, steps.get(0).step());
            assertEquals(2, steps.get(10).epoch());
            assertEquals(0, steps.get(10).stepInEpoch());
            assertEquals(h.epochs(), epochs);
            assertEquals(3, h.epochs().size());
            double mean = 0;
            for (int s = 20; s < 30; s++) {
                mean += steps.get(s).loss();
            }
            assertEquals(mean / 10, h.last().trainLoss(), 1e-12);
            assertEquals(80, t.heldOutSet().size());
            assertEquals(320, t.trainingSet().size());
            assertEquals(h.last().heldOutLoss(), t.evaluate(t.heldOutSet()).loss());
            assertFalse(h.toString().contains("@"), h.toString());
            assertTrue(h.toString().contains("epoch   3"), h.toString());
            assertNotNull(t.lastRun());
            assertFalse(t.lastRun().toString().contains("[I@"), t.lastRun().toString());
            assertTrue(t.lastRun().toString().contains("L=12:"), t.lastRun().toString());
        }
    }

    /** Early stopping: with a learning rate of 0 no epoch improves on the first, so the run stops after the patience. */
    @Test
    void earlyStoppingStopsAfterThePatience() {
        List<History.Epoch> seen = new ArrayList<>();
        try (Training t = config(net(3), "sgd").optimizer((n, r) -> new Sgd(n, LearningRate.constant(0))).epochs(20)
                .earlyStopping(2).onEpoch(seen::add)) {
            History h = t.fit(DATA);
            assertTrue(h.stoppedEarly());
            assertEquals(3, h.epochs().size());
            assertEquals(1, h.best().epoch());
            assertEquals(seen, h.epochs());
            assertEquals(30, t.step());
            // Fitting again does not run past the stop.
            assertEquals(3, t.fit(DATA).epochs().size());
        }
        // A run that improves every epoch does not stop.
        try (Training t = config(net(3), "adam").earlyStopping(5)) {
            assertFalse(t.fit(DATA).stoppedEarly());
        }
    }

    /** predict needs no labels and gives the executor's outputs; classify is their argmax. */
    @Test
    void predictGivesTheExecutorsOutputs() {
        Network net = net(5);
        float[] x = new float[2 * 300];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37);
        }
        float[] expected = new float[300 * 2];
        try (Executor ex = new Executor(net, Planners.parse("full").plan(net.depth()), 300, Kernels.get(), 1)) {
            ex.predict(Batch.regression(x, 2, new float[300 * 2], 2), expected);
        }
        try (Training t = Training.of(net)) {
            float[] got = t.predict(x); // 300 rows: two chunks of the inference executor
            assertArrayEquals(bits(expected), bits(got));
            float[] one = t.predict(new float[] {x[2], x[3]});
            assertEquals(Float.floatToRawIntBits(expected[2]), Float.floatToRawIntBits(one[0]));
            int[] c = t.classify(x);
            assertEquals(expected[2] > expected[3] ? 0 : 1, c[1]);
            assertThrows(IllegalArgumentException.class, () -> t.predict(new float[3]));
        }
    }

    /** The builder's layerNorm() is torch's default LayerNorm. */
    @Test
    void builderTakesLayerNorm() {
        Network n = Network.builder(3).dense(8, Activation.TANH).layerNorm().dense(2, Activation.IDENTITY).build(1);
        LayerNormLayer ln = assertInstanceOf(LayerNormLayer.class, n.layer(2));
        assertEquals(LayerNormLayer.DEFAULT_EPS, ln.eps());
        assertEquals(8, ln.outputWidth());
        for (float g : ln.weights()) {
            assertEquals(1f, g);
        }
        assertEquals(1e-3f, ((LayerNormLayer) Network.builder(3).layerNorm(1e-3f).build(1).layer(1)).eps());
        assertThrows(IllegalArgumentException.class, () -> Network.builder(3).layerNorm(0f));
    }

    /** A byte budget gives a plan for the network and batch in one call, and settings are fixed once training starts. */
    @Test
    void planForABudgetAndFixedSettings() {
        Network n = Network.builder(2).dense(64, Activation.RELU).residual(200, Activation.RELU).dense(2, Activation.IDENTITY).build(1);
        var full = Training.planFor(n, 256, "full");
        var tight = Training.planFor(n, 256, "budget:4MiB");
        assertTrue(tight.stats().forwardEvaluations() > full.stats().forwardEvaluations());
        assertFalse(tight.stats().toString().contains("[I@"), tight.stats().toString());
        try (Training t = config(net(3), "adam").epochs(1)) {
            t.fit(DATA);
            assertThrows(IllegalStateException.class, () -> t.batch(8));
            // A second fit after the last epoch has nothing left to do.
            assertEquals(1, t.fit(DATA).epochs().size());
        }
    }
}
