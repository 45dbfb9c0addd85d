package dev.checkprop.io;

import dev.checkprop.nn.AffineLayer;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.DropoutLayer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFileTest {

    @TempDir
    Path dir;

    @Test
    void everyLayerKindRoundTripsBitExactly() throws Exception {
        Network net = Network.builder(6).dense(10, Activation.RELU).residual(2, Activation.TANH).dropout(0.125f)
                .residual(1, Activation.SIGMOID).dense(7, Activation.GELU).residual(1, Activation.GELU).dense(3, Activation.IDENTITY).build(77);
        Path p = dir.resolve("m.safetensors");
        ModelFile.save(net, p);
        Network back = ModelFile.load(p);
        assertEquals(net.depth(), back.depth());
        for (int l = 1; l <= net.depth(); l++) {
            Layer a = net.layer(l);
            Layer b = back.layer(l);
            assertEquals(a.kind(), b.kind(), "layer " + l);
            assertEquals(a.describe(), b.describe());
            if (a instanceof DropoutLayer da) {
                assertEquals(da.seed(), ((DropoutLayer) b).seed());
            }
            assertArrayEquals(a.weights(), b.weights());
            assertArrayEquals(a.bias(), b.bias());
        }
        SafeTensors st = SafeTensors.read(p);
        assertEquals("dropout", st.metadata().get("layers.3.kind"));
        assertEquals("0.125", st.metadata().get("layers.3.rate"));
        assertTrue(!st.has("layers.3.weight"), "dropout has no tensors");
        assertEquals("residual", st.metadata().get("layers.1.kind"));
    }

    @Test
    void malformedModelsAreRejectedNamingTheTensor() throws Exception {
        Network net = Network.builder(4).dense(5, Activation.TANH).dense(2, Activation.IDENTITY).build(1);
        SafeTensors good = ModelFile.toSafeTensors(net);
        // Widths that do not chain.
        SafeTensors.Builder b = SafeTensors.builder();
        good.metadata().forEach(b::metadata);
        b.putF32("layers.0.weight", new long[] {5, 4}, new float[20]).putF32("layers.0.bias", new long[] {5}, new float[5])
                .putF32("layers.1.weight", new long[] {2, 6}, new float[12]).putF32("layers.1.bias", new long[] {2}, new float[2]);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.fromSafeTensors(b.build(), "m"));
        assertTrue(e.getMessage().contains("layers.1.weight takes 6 inputs"), e.getMessage());
        // An unknown activation and an unexpected tensor.
        SafeTensors.Builder c = SafeTensors.builder();
        good.tensors().values().forEach(c::put);
        good.metadata().forEach((k, v) -> c.metadata(k, k.equals("layers.1.activation") ? "swish" : v));
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.fromSafeTensors(c.build(), "m"));
        assertTrue(e.getMessage().contains("unknown activation 'swish'"), e.getMessage());
        SafeTensors.Builder d = SafeTensors.builder();
        good.tensors().values().forEach(d::put);
        good.metadata().forEach(d::metadata);
        d.putF32("layers.9.weigth", new long[] {1}, new float[1]);
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.fromSafeTensors(d.build(), "m"));
        assertTrue(e.getMessage().contains("unexpected tensor layers.9.weigth"), e.getMessage());
        // Labels stored as floats.
        SafeTensors data = SafeTensors.builder().putF32("x", new long[] {2, 4}, new float[8])
                .putF32("labels", new long[] {2}, new float[2]).build();
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.dataFromSafeTensors(data, Loss.SOFTMAX_CROSS_ENTROPY, "d"));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
    }
}
