package dev.checkprop.torch;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Network;
import dev.checkprop.reference.TestNets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** State dicts of nn.Sequential to networks and back, on hand-made files. */
class TorchBridgeTest {

    private static final String SRC = "sd.safetensors";

    private static float[] seq(int n, float start) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = start + 0.125f * i;
        }
        return a;
    }

    /** Linear(3, 4), Tanh, Linear(4, 4), Tanh, Linear(4, 2): keys 0, 2, 4. */
    private static SafeTensors.Builder threeLinears(String prefix) {
        return SafeTensors.builder()
                .putF32(prefix + "0.weight", new long[] {4, 3}, seq(12, -1f)).putF32(prefix + "0.bias", new long[] {4}, seq(4, 0.5f))
                .putF32(prefix + "2.weight", new long[] {4, 4}, seq(16, -2f)).putF32(prefix + "2.bias", new long[] {4}, seq(4, 0f))
                .putF32(prefix + "4.weight", new long[] {2, 4}, seq(8, 1f)).putF32(prefix + "4.bias", new long[] {2}, seq(2, -1f));
    }

    private static TorchBridge.Imported load(SafeTensors st, String arch) throws SafeTensorsException {
        return TorchBridge.fromStateDict(st, Architecture.parse(arch), "", 0, SRC);
    }

    @Test
    void theIssuesExampleMapsLinearsAndTheirActivationsToDenseLayers() throws Exception {
        TorchBridge.Imported im = load(threeLinears("").build(), "linear:tanh,linear:tanh,linear");
        Network net = im.network();
        assertEquals(3, net.depth());
        Activation[] expected = {Activation.TANH, Activation.TANH, Activation.IDENTITY};
        int[][] shapes = {{3, 4}, {4, 4}, {4, 2}};
        float[][] w = {seq(12, -1f), seq(16, -2f), seq(8, 1f)};
        for (int l = 1; l <= 3; l++) {
            DenseLayer d = assertInstanceOf(DenseLayer.class, net.layer(l));
            assertEquals(expected[l - 1], d.activation());
            assertEquals(shapes[l - 1][0], d.inputWidth());
            assertEquals(shapes[l - 1][1], d.outputWidth());
            assertArrayEquals(w[l - 1], d.weights()); // [out, in] row-major in both
        }
        assertEquals(Map.of("layers.0.weight", "0.weight", "layers.0.bias", "0.bias", "layers.1.weight", "2.weight",
                "layers.1.bias", "2.bias", "layers.2.weight", "4.weight", "layers.2.bias", "4.bias"), im.names());
        assertEquals(List.of("layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight",
                "layers.2.bias"), List.copyOf(im.names().keySet()));
        // A prefix, as in model.net = nn.Sequential(...).
        Network prefixed = TorchBridge.fromStateDict(threeLinears("net.").build(),
                Architecture.parse("linear,tanh,linear:tanh,linear"), "net.", 0, SRC).network();
        assertArrayEquals(net.layer(2).weights(), prefixed.layer(2).weights());
    }

    @Test
    void layerNormDropoutIdentityAndStandaloneActivations() throws Exception {
        // Dropout(0.1), Linear(3, 4), ReLU, LayerNorm(4, eps=1e-6), Identity, Linear(4, 2), Sigmoid, Dropout
        SafeTensors st = SafeTensors.builder()
                .putF32("1.weight", new long[] {4, 3}, seq(12, -1f)).putF32("1.bias", new long[] {4}, seq(4, 0f))
                .putF32("3.weight", new long[] {4}, seq(4, 0.75f)).putF32("3.bias", new long[] {4}, seq(4, -0.25f))
                .putF32("5.weight", new long[] {2, 4}, seq(8, 0f)).putF32("5.bias", new long[] {2}, seq(2, 0f))
                .build();
        Network net = TorchBridge.fromStateDict(st, Architecture.parse("dropout:0.1,linear,relu,layernorm:1e-6,identity,linear:sigmoid,dropout"),
                "", 7, SRC).network();
        List<Layer> layers = net.layers();
        assertEquals(5, layers.size());
        DropoutLayer first = assertInstanceOf(DropoutLayer.class, layers.get(0));
        assertEquals(3, first.outputWidth()); // the width of the Linear after it
        assertEquals(0.1f, first.rate());
        assertEquals(Activation.RELU, assertInstanceOf(DenseLayer.class, layers.get(1)).activation());
        LayerNormLayer ln = assertInstanceOf(LayerNormLayer.class, layers.get(2));
        assertEquals(1e-6f, ln.eps());
        assertArrayEquals(seq(4, 0.75f), ln.weights());
        assertArrayEquals(seq(4, -0.25f), ln.bias());
        assertEquals(Activation.SIGMOID, assertInstanceOf(DenseLayer.class, layers.get(3)).activation());
        assertEquals(2, assertInstanceOf(DropoutLayer.class, layers.get(4)).outputWidth());
        assertEquals(0.5f, ((DropoutLayer) layers.get(4)).rate());
    }

    @Test
    void importIsAsStrictAsLoadStateDictStrict() throws Exception {
        String arch = "linear:tanh,linear:tanh,linear";
        assertError(SafeTensors.builder().putF32("0.weight", new long[] {4, 3}, new float[12]).build(), arch,
                SRC + ": missing tensor 0.bias for module 0 (nn.Linear) of the architecture (checkprop's dense layers have a bias:"
                        + " nn.Linear(..., bias=True)); the file has tensors 0.weight");
        assertError(threeLinears("model.").build(), arch, "missing tensor 0.weight for module 0 (nn.Linear)");
        assertError(threeLinears("").putF32("1.weight", new long[] {1}, new float[1]).build(), arch,
                SRC + ": unexpected tensor 1.weight (module 1 is tanh, which has no parameters)"
                        + " (load_state_dict(strict=True) would refuse it too)");
        assertError(threeLinears("").putF32("5.bias", new long[] {1}, new float[1]).build(), arch,
                "unexpected tensor 5.bias (the architecture has modules 0..4)");
        assertError(threeLinears("").putF32("running_mean", new long[] {1}, new float[1]).build(), arch,
                "unexpected tensor running_mean (the architecture's parameters are {index}.weight and {index}.bias of its"
                        + " linear and layernorm modules; is a --prefix missing?)");
        assertError(threeLinears("").build(), "linear:tanh,linear:tanh", "unexpected tensor 4.bias (the architecture has modules 0..3)");
        assertError(threeLinears("").build(), "linear:tanh,linear,linear", "missing tensor 3.weight for module 3 (nn.Linear)");
        // Widths must chain: 2.weight [4, 4] after a Linear of 4 outputs is fine; 4 -> 3 is not.
        SafeTensors wrong = SafeTensors.builder()
                .putF32("0.weight", new long[] {4, 3}, new float[12]).putF32("0.bias", new long[] {4}, new float[4])
                .putF32("1.weight", new long[] {2, 3}, new float[6]).putF32("1.bias", new long[] {2}, new float[2]).build();
        assertError(wrong, "linear,linear", SRC + ": 1.weight [2, 3] takes 3 inputs but module 0 (linear) gives 4 outputs");
        SafeTensors badBias = SafeTensors.builder()
                .putF32("0.weight", new long[] {4, 3}, new float[12]).putF32("0.bias", new long[] {3}, new float[3]).build();
        assertError(badBias, "linear", "0.bias must have shape [4] to match 0.weight [4, 3], got [3]");
        SafeTensors ln2d = SafeTensors.builder()
                .putF32("0.weight", new long[] {2, 2}, new float[4]).putF32("0.bias", new long[] {2, 2}, new float[4]).build();
        assertError(ln2d, "layernorm", "0.weight of nn.LayerNorm (module 0) must have shape [normalized_shape], got [2, 2]");
        assertError(threeLinears("").build(), "linear,layernorm,tanh,linear",
                "missing tensor 1.weight for module 1 (nn.LayerNorm) of the architecture (checkprop's layernorm has a scale");
        // An activation with no Linear before it has no checkprop layer.
        SafeTensors ln = SafeTensors.builder()
                .putF32("0.weight", new long[] {3}, seq(3, 1f)).putF32("0.bias", new long[] {3}, new float[3]).build();
        assertError(ln, "layernorm,tanh", SRC + ": module 1 (tanh) follows module 0 (layernorm): checkprop applies an activation"
                + " inside a dense layer, so it must directly follow a linear module");
        SafeTensors twoLinears = SafeTensors.builder()
                .putF32("0.weight", new long[] {4, 3}, new float[12]).putF32("0.bias", new long[] {4}, new float[4])
                .putF32("3.weight", new long[] {2, 4}, new float[8]).putF32("3.bias", new long[] {2}, new float[2]).build();
        assertError(twoLinears, "linear:tanh,relu,linear", "module 2 (relu) follows module 1 (tanh)");
        assertEquals(2, load(twoLinears, "linear:tanh,identity,linear").network().depth());
        assertError(SafeTensors.builder().build(), "tanh,dropout", "has no linear or layernorm module: there is nothing to import");
        // Values are checked by the torch key and element.
        float[] w = new float[12];
        w[7] = Float.NaN;
        SafeTensors nan = SafeTensors.builder().putF32("0.weight", new long[] {4, 3}, w).putF32("0.bias", new long[] {4}, new float[4]).build();
        assertError(nan, "linear", SRC + ": 0.weight[2, 1] is NaN: values must be finite");
        SafeTensors ints = SafeTensors.builder().putI64("0.weight", new long[] {1, 1}, new long[] {1})
                .putF32("0.bias", new long[] {1}, new float[1]).build();
        assertError(ints, "linear", "tensor \"0.weight\" has dtype I64, expected F32, F16, BF16 or F64");
    }

    @Test
    void exportWritesTheTorchKeysShapesAndThePythonThatLoadsThem() throws Exception {
        Network net = TestNets.withRandomBias(TestNets.withLayerNorms(Network.builder(3).dense(5, Activation.TANH)
                .dense(5, Activation.IDENTITY).dropout(0.25f).dense(4, Activation.RELU).dense(2, Activation.SIGMOID).build(3), 4, 1), 5);
        TorchBridge.Exported ex = TorchBridge.toStateDict(net, "");
        // Linear, Tanh, LayerNorm, Linear, Dropout, Linear, ReLU, Linear, Sigmoid
        assertEquals("linear:tanh,layernorm,linear,dropout:0.25,linear:relu,linear:sigmoid", ex.architecture().toString());
        assertEquals("nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.LayerNorm(5), nn.Linear(5, 5), nn.Dropout(p=0.25),"
                + " nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 2), nn.Sigmoid())", ex.python());
        SafeTensors st = ex.stateDict();
        assertEquals(List.of("0.bias", "0.weight", "2.bias", "2.weight", "3.bias", "3.weight", "5.bias", "5.weight", "7.bias",
                "7.weight"), st.names());
        assertArrayEquals(new long[] {5, 3}, st.tensor("0.weight").shape());
        assertArrayEquals(new long[] {5}, st.tensor("2.weight").shape());
        assertArrayEquals(net.layer(2).weights(), st.tensor("2.weight").toFloatArray());
        assertArrayEquals(net.layer(6).bias(), st.tensor("7.bias").toFloatArray());
        assertEquals(Map.of("format", "pt", "checkprop.architecture", ex.architecture().toString(), "checkprop.torch", ex.python()),
                st.metadata());
        assertEquals("7.weight", ex.names().get("layers.5.weight"));

        // And back: the same network, bit for bit (dropout's rate; its masks are seeded anew).
        Network back = TorchBridge.fromStateDict(SafeTensors.read(st.toBytes(), SRC), ex.architecture(), "", 0, SRC).network();
        assertEquals(net.toString(), back.toString());
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(net.layer(l).weights(), back.layer(l).weights(), "layer " + l);
            assertArrayEquals(net.layer(l).bias(), back.layer(l).bias(), "layer " + l);
            assertEquals(net.layer(l).describe(), back.layer(l).describe());
        }
        assertEquals(1e-5f, ((LayerNormLayer) back.layer(2)).eps());
        // With a prefix.
        assertEquals("net.0.weight", TorchBridge.toStateDict(net, "net.").stateDict().names().get(1));
    }

    @Test
    void deepNetworksGetAShortPythonLine() {
        Network net = Network.builder(8).dense(100, 8, Activation.TANH).dense(3, Activation.IDENTITY).build(1);
        TorchBridge.Exported ex = TorchBridge.toStateDict(net, "");
        assertEquals("linear:tanh*100,linear", ex.architecture().toString());
        assertEquals("nn.Sequential(*(m for _ in range(100) for m in (nn.Linear(8, 8), nn.Tanh(),)), nn.Linear(8, 3))",
                ex.python());
        assertEquals(201, ex.architecture().modules().size());
        assertTrue(ex.stateDict().has("198.weight") && ex.stateDict().has("200.bias"));
    }

    @Test
    void geluIsTorchsDefaultGelu() throws Exception {
        Network net = Network.builder(3).dense(4, Activation.GELU).dense(2, Activation.IDENTITY).build(2);
        TorchBridge.Exported ex = TorchBridge.toStateDict(net, "");
        assertEquals("linear:gelu,linear", ex.architecture().toString());
        assertEquals("nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2))", ex.python());
        Network back = TorchBridge.fromStateDict(ex.stateDict(), Architecture.parse("linear,gelu,linear"), "", 0, SRC).network();
        assertEquals(Activation.GELU, ((DenseLayer) back.layer(1)).activation());
        assertArrayEquals(net.layer(1).weights(), back.layer(1).weights());
    }

    @Test
    void residualBlocksHaveNoSequentialEquivalent() {
        Network net = Network.builder(4).dense(6, Activation.RELU).residual(2, Activation.TANH).dense(2, Activation.IDENTITY).build(1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TorchBridge.toStateDict(net, ""));
        assertEquals("layer 2 (layers.1, residual tanh) is a residual block a + f(W a + b), which torch.nn.Sequential cannot"
                + " express; export-torch writes networks of dense, layernorm and dropout layers only", e.getMessage());
    }

    private static void assertError(SafeTensors st, String arch, String expected) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> load(st, arch));
        assertTrue(e.getMessage().contains(expected), () -> "'" + expected + "' missing from: " + e.getMessage());
    }
}
