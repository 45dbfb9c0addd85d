package dev.checkprop.io;

import dev.checkprop.cli.Main;
import dev.checkprop.exec.Executor;
import dev.checkprop.hvp.DirectionFile;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.Seeds;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Model files with LayerNorm: kind {@code layernorm}, {@code layers.{l}.weight} (&gamma;) and
 * {@code layers.{l}.bias} (&beta;) of shape [n], {@code layers.{l}.eps} in the metadata; exact round
 * trips, clear errors, and the command line on such files.
 */
class LayerNormModelFileTest {

    @TempDir
    Path dir;

    /** The mixed network with its second LayerNorm's eps changed to {@code eps}. */
    private static Network withEps(Network net, int l, float eps) {
        List<Layer> layers = new ArrayList<>(net.layers());
        LayerNormLayer ln = (LayerNormLayer) layers.get(l - 1);
        layers.set(l - 1, new LayerNormLayer(ln.outputWidth(), ln.weights().clone(), ln.bias().clone(), eps));
        return new Network(layers);
    }

    private static void assertSameNetwork(Network expected, Network got) {
        assertEquals(expected.depth(), got.depth());
        for (int l = 1; l <= expected.depth(); l++) {
            Layer a = expected.layer(l);
            Layer b = got.layer(l);
            assertEquals(a.getClass(), b.getClass(), "layer " + l);
            assertEquals(a.describe(), b.describe(), "layer " + l);
            assertArrayEquals(a.weights(), b.weights(), "layer " + l + " weights");
            assertArrayEquals(a.bias(), b.bias(), "layer " + l + " bias");
            if (a instanceof LayerNormLayer na) {
                assertEquals(Float.floatToRawIntBits(na.eps()), Float.floatToRawIntBits(((LayerNormLayer) b).eps()), "layer " + l + " eps");
            }
        }
    }

    @Test
    void layerNormModelsRoundTripExactly() throws Exception {
        Network net = withEps(TestNets.layerNormMixed(81), 6, 3.3e-4f);
        Path p = dir.resolve("ln.safetensors");
        ModelFile.save(net, p);
        Network back = ModelFile.load(p);
        assertSameNetwork(net, back);
        SafeTensors st = SafeTensors.read(p);
        assertEquals("layernorm", st.metadata().get("layers.2.kind"));
        assertEquals("layernorm", st.metadata().get("layers.5.kind"));
        assertArrayEquals(new long[] {9}, st.tensor("layers.2.weight").shape());
        assertArrayEquals(new long[] {9}, st.tensor("layers.2.bias").shape());
        assertArrayEquals(new long[] {12}, st.tensor("layers.5.weight").shape());
        assertEquals(3.3e-4f, (float) Double.parseDouble(st.metadata().get("layers.5.eps")));
        assertEquals(LayerNormLayer.DEFAULT_EPS, (float) Double.parseDouble(st.metadata().get("layers.2.eps")));
        assertTrue(!st.metadata().containsKey("layers.2.activation"), "layernorm has no activation");
        // The loaded network computes the same bits.
        Batch data = TestNets.classification(net, 7, 2);
        assertTrue(gradient(net, data).bitEquals(gradient(back, data)), "gradients of the loaded model");
        // And the edges network (layernorm first and last) too.
        Network edges = TestNets.layerNormEdges(82);
        ModelFile.save(edges, p);
        assertSameNetwork(edges, ModelFile.load(p));
    }

    private static Gradients gradient(Network net, Batch data) {
        Gradients g = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, Planners.parse("full").plan(net.depth()), data.size())) {
            ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
        }
        return g;
    }

    /** Every eps written is read back to the same float: the extremes, torch's default and 2,000 seeded floats in (0, 1). */
    @Test
    void everyEpsRoundTripsBitExactly() throws Exception {
        List<Float> values = new ArrayList<>(List.of(Float.MIN_VALUE, Float.MIN_NORMAL, 1e-12f, 1e-5f, 1e-3f, 0.1f,
                Math.nextDown(1f)));
        for (int i = 0; i < 2000; i++) {
            // Uniform in the bits of floats in (0, 1): every binade equally often.
            int bits = 1 + (int) Long.remainderUnsigned(Seeds.bits(5, 6, i), Float.floatToRawIntBits(1f) - 1);
            values.add(Float.intBitsToFloat(bits));
        }
        Network base = TestNets.layerNormMixed(83);
        for (float eps : values) {
            Network net = withEps(base, 3, eps);
            Network back = ModelFile.fromSafeTensors(SafeTensors.read(ModelFile.toSafeTensors(net).toBytes(), "m"), "m");
            assertEquals(Float.floatToRawIntBits(eps), Float.floatToRawIntBits(((LayerNormLayer) back.layer(3)).eps()),
                    "eps " + eps + " (" + Integer.toHexString(Float.floatToRawIntBits(eps)) + ")");
        }
    }

    /** A model file (e.g. written by PyTorch's exporter) without layers.{l}.eps gets torch's default. */
    @Test
    void missingEpsIsTorchsDefault() throws Exception {
        Network net = withEps(TestNets.layerNormMixed(84), 3, 0.25f);
        SafeTensors.Builder b = copyWithout(ModelFile.toSafeTensors(net), "layers.2.eps", null);
        Network back = ModelFile.fromSafeTensors(b.build(), "m");
        assertEquals(LayerNormLayer.DEFAULT_EPS, ((LayerNormLayer) back.layer(3)).eps());
    }

    /** A copy of {@code st} without the metadata key {@code dropKey} and the tensor {@code dropTensor} (either may be null). */
    private static SafeTensors.Builder copyWithout(SafeTensors st, String dropKey, String dropTensor) throws SafeTensorsException {
        SafeTensors.Builder b = SafeTensors.builder();
        for (Map.Entry<String, String> e : st.metadata().entrySet()) {
            if (!e.getKey().equals(dropKey)) {
                b.metadata(e.getKey(), e.getValue());
            }
        }
        for (String name : st.names()) {
            if (!name.equals(dropTensor)) {
                b.put(st.tensor(name));
            }
        }
        return b;
    }

    private static void assertRejected(SafeTensors.Builder b, String... expected) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.fromSafeTensors(b.build(), "m.safetensors"));
        assertTrue(e.getMessage().startsWith("m.safetensors: "), e.getMessage());
        for (String s : expected) {
            assertTrue(e.getMessage().contains(s), "expected '" + s + "' in: " + e.getMessage());
        }
    }

    @Test
    void badEpsIsAClearError() throws Exception {
        SafeTensors good = ModelFile.toSafeTensors(TestNets.layerNormMixed(85));
        for (String eps : new String[] {"0", "-1e-5", "1", "2.5", "1e-50", "NaN", "Infinity", "-0.0"}) {
            SafeTensors.Builder b = copyWithout(good, "layers.2.eps", null).metadata("layers.2.eps", eps);
            assertRejected(b, "layers.2.eps", "eps must be a positive float below 1");
        }
        for (String eps : new String[] {"abc", "", "1e-5f0"}) {
            assertRejected(copyWithout(good, "layers.2.eps", null).metadata("layers.2.eps", eps), "layers.2.eps", "not a number");
        }
    }

    @Test
    void wrongShapesAreClearErrors() throws Exception {
        Network net = TestNets.layerNormMixed(86);
        SafeTensors good = ModelFile.toSafeTensors(net);
        // gamma of rank 2, as a dense layer's weight would be.
        assertRejected(copyWithout(good, null, "layers.2.weight").putF32("layers.2.weight", new long[] {9, 1}, new float[9]),
                "layers.2.weight", "layernorm", "[n]");
        // beta of the wrong length.
        assertRejected(copyWithout(good, null, "layers.2.bias").putF32("layers.2.bias", new long[] {8}, new float[8]),
                "layers.2.bias", "[9]");
        // gamma and beta agree with each other but not with the layer below (9 outputs).
        assertRejected(copyWithout(copyWithout(good, null, "layers.2.weight").build(), null, "layers.2.bias")
                        .putF32("layers.2.weight", new long[] {8}, new float[8]).putF32("layers.2.bias", new long[] {8}, new float[8]),
                "layernorm layer 2", "8 features", "9 outputs");
        // A missing beta, and a non-finite gamma.
        assertRejected(copyWithout(good, null, "layers.5.bias"), "missing tensor layers.5.bias");
        float[] bad = net.layer(6).weights().clone();
        bad[4] = Float.NaN;
        assertRejected(copyWithout(good, null, "layers.5.weight").putF32("layers.5.weight", new long[] {12}, bad),
                "layers.5.weight");
    }

    record Result(int code, String out, String err) {
    }

    private static Result cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    /** {@code grad} and {@code hvp} on a LayerNorm model: exit 0, the executor's bits, byte-identical files for every plan. */
    @Test
    void gradAndHvpCommandsRunOnLayerNormModels() throws Exception {
        Network net = withEps(TestNets.layerNormMixed(6, 9, 12, 4, Activation.TANH, Activation.RELU, Activation.IDENTITY, 0.2f, 87),
                6, 1e-3f);
        Batch data = TestNets.classification(net, 11, 3);
        Path model = dir.resolve("model.safetensors");
        Path dataFile = dir.resolve("data.safetensors");
        Path vec = dir.resolve("v.safetensors");
        ModelFile.save(net, model);
        ModelFile.saveData(data, dataFile);
        Gradients v = TestNets.direction(net, 4);
        DirectionFile.toSafeTensors(net, v, Map.of()).write(vec);
        Gradients expected = gradient(net, data);
        byte[] first = null;
        for (String plan : new String[] {"full", "sqrt", "binomial:2", "optimal:3", "budget:3KiB"}) {
            Path out = dir.resolve("g-" + plan.replace(':', '-') + ".safetensors");
            Result r = cli("grad", "--model", model.toString(), "--data", dataFile.toString(), "--loss", "softmax-ce",
                    "--plan", plan, "--out", out.toString(), "--threads", "2");
            assertEquals(0, r.code(), plan + ": " + r.err());
            Gradients got = DirectionFile.read(out, net);
            assertTrue(expected.bitEquals(got), plan + ": the grad command's gradient is not the executor's");
            SafeTensors st = SafeTensors.read(out);
            assertArrayEquals(new long[] {9}, st.tensor("layers.2.weight").shape(), plan);
            byte[] bytes = Files.readAllBytes(out);
            if (first == null) {
                first = bytes;
            } else {
                assertArrayEquals(first, bytes, plan + " wrote different bytes than full");
            }
        }
        for (Curvature k : Curvature.values()) {
            Path out = dir.resolve("hv-" + k.label() + ".safetensors");
            List<String> args = new ArrayList<>(List.of("hvp", "--model", model.toString(), "--data", dataFile.toString(),
                    "--loss", "softmax-ce", "--vector", vec.toString(), "--plan", "binomial:2", "--out", out.toString()));
            if (k == Curvature.GAUSS_NEWTON) {
                args.add("--gauss-newton");
            }
            Result r = cli(args.toArray(String[]::new));
            assertEquals(0, r.code(), k.label() + ": " + r.err());
            Gradients product = Gradients.zerosLike(net);
            try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), data.size(),
                    Kernels.scalar(), 1)) {
                ex.hessianVector(data, Loss.SOFTMAX_CROSS_ENTROPY, v, null, product, k);
            }
            assertTrue(product.bitEquals(DirectionFile.read(out, net)), k.label() + ": the hvp command's product is not the executor's");
        }
    }
}
