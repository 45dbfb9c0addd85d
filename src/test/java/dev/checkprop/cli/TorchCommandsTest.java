package dev.checkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.exec.Executor;
import dev.checkprop.io.DType;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.Tensor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code import-torch}, {@code export-torch} and {@code --loss mse-mean} end to end. */
class TorchCommandsTest {

    @TempDir
    Path dir;

    private Path path(String name) {
        return dir.resolve(name);
    }

    /** The floats rounded to bfloat16 (to nearest even), as raw little-endian BF16 bytes. */
    private static byte[] bf16(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            int bits = Float.floatToRawIntBits(f);
            b.putShort((short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16));
        }
        return b.array();
    }

    private static float bf16Value(float f) {
        int bits = Float.floatToRawIntBits(f);
        return Float.intBitsToFloat(((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16);
    }

    @Test
    void importABf16StateDictSayingSoThenExportItBack() throws Exception {
        // Linear(3, 4), Tanh, LayerNorm(4), Linear(4, 2): keys 0, 2, 3, in BF16 as torch's model.bfloat16() saves them.
        float[] w0 = CliTest.uniform(12, 1);
        float[] w3 = CliTest.uniform(8, 2);
        float[] ones = {1f, 1.5f, 0.5f, 1f};
        SafeTensors st = SafeTensors.builder()
                .put(Tensor.of("0.weight", DType.BF16, new long[] {4, 3}, bf16(w0)))
                .put(Tensor.of("0.bias", DType.BF16, new long[] {4}, bf16(new float[4])))
                .put(Tensor.of("2.weight", DType.BF16, new long[] {4}, bf16(ones)))
                .put(Tensor.of("2.bias", DType.BF16, new long[] {4}, bf16(new float[4])))
                .put(Tensor.of("3.weight", DType.BF16, new long[] {2, 4}, bf16(w3)))
                .putF32("3.bias", new long[] {2}, new float[] {0.25f, -0.5f})
                .build();
        Path sd = path("sd.safetensors");
        st.write(sd);
        Path model = path("m.safetensors");
        Path report = path("r.json");
        CliTest.Result r = CliTest.run("import-torch", "--state-dict", sd.toString(), "--arch", "linear:tanh,layernorm,linear",
                "--out", model.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("read " + sd + ": 6 tensors of 4 modules (linear:tanh,layernorm,linear); converted 5 tensors from bf16 to f32\n"
                + "wrote " + model + ": Network[3 -> 4 (dense tanh) -> 4 (layernorm) -> 2 (dense identity) | 3 layers, 34 params]\n",
                r.out());
        Network net = ModelFile.load(model);
        for (int j = 0; j < 12; j++) {
            assertEquals(bf16Value(w0[j]), net.layer(1).weights()[j]);
        }
        assertArrayEquals(ones, net.layer(2).weights());
        JsonNode json = new ObjectMapper().readTree(report.toFile());
        assertEquals("3.weight", json.get("tensors").get("layers.2.weight").asText());
        assertEquals(5, json.get("converted_to_f32").get("BF16").asInt());
        assertEquals("converted 5 tensors from bf16 to f32", json.get("conversion").asText());

        // Back to torch: F32, the same keys and shapes, values those of the model.
        Path back = path("back.safetensors");
        r = CliTest.run("export-torch", "--model", model.toString(), "--out", back.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("wrote " + back + ": 6 F32 tensors of torch.nn.Sequential linear:tanh,layernorm,linear\n"
                + "load it with: model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.LayerNorm(4), nn.Linear(4, 2));"
                + " model.load_state_dict(safetensors.torch.load_file(\"" + back + "\"), strict=True)\n", r.out());
        SafeTensors exported = SafeTensors.read(back);
        assertEquals(st.names(), exported.names());
        for (String name : st.names()) {
            assertEquals(DType.F32, exported.tensor(name).dtype());
            assertArrayEquals(st.tensor(name).shape(), exported.tensor(name).shape());
            assertArrayEquals(st.tensor(name).toFloatArray(), exported.tensor(name).toFloatArray(), name);
        }
    }

    @Test
    void exportWritesOutputsForCheckingInTorch() throws Exception {
        Network net = Network.builder(3).dense(5, Activation.RELU).dropout(0.5f).dense(2, Activation.IDENTITY).build(4);
        Path model = path("m.safetensors");
        ModelFile.save(net, model);
        float[] x = CliTest.uniform(300 * 3, 5); // more than one 256-sample chunk
        Path data = path("x.safetensors");
        SafeTensors.builder().putF32("x", new long[] {300, 3}, x).build().write(data);
        Path out = path("o.safetensors");
        CliTest.Result r = CliTest.run("export-torch", "--model", model.toString(), "--out", path("t.safetensors").toString(),
                "--inputs", data.toString(), "--outputs", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Dropout(p=0.5), nn.Linear(5, 2))"), r.out());
        assertTrue(r.out().endsWith("wrote " + out + ": the model's outputs [300, 2] on " + data
                + "'s x, to compare with model.eval()(x)\n"), r.out());
        SafeTensors o = SafeTensors.read(out);
        assertArrayEquals(x, o.tensor("x").toFloatArray());
        float[] expected = new float[600];
        try (Executor ex = new Executor(net, Planners.parse("full").plan(net.depth()), 300, Kernels.get(), 1)) {
            ex.predict(Batch.regression(x, 3, new float[600], 2), expected);
        }
        assertArrayEquals(expected, o.tensor("outputs").toFloatArray()); // inference: dropout off, every chunk alike

        r = CliTest.run("export-torch", "--model", model.toString(), "--out", path("t2.safetensors").toString(),
                "--inputs", data.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertEquals("checkprop: --inputs and --outputs go together: give both or neither\n", r.err());
        assertFalse(Files.exists(path("t2.safetensors")));
    }

    @Test
    void refusalsAreOneLineAndWriteNothing() throws Exception {
        Network residual = Network.builder(3).dense(4, Activation.TANH).residual(1, Activation.TANH).build(1);
        Path model = path("res.safetensors");
        ModelFile.save(residual, model);
        Path t = path("t.safetensors");
        CliTest.Result r = CliTest.run("export-torch", "--model", model.toString(), "--out", t.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertEquals("checkprop: layer 2 (layers.1, residual tanh) is a residual block a + f(W a + b), which"
                + " torch.nn.Sequential cannot express; export-torch writes networks of dense, layernorm and dropout layers"
                + " only\n", r.err());
        assertFalse(Files.exists(t));

        Path sd = path("sd.safetensors");
        SafeTensors.builder().putF32("0.weight", new long[] {2, 2}, new float[4]).putF32("0.bias", new long[] {2}, new float[2])
                .putF32("1.weight", new long[] {2, 2}, new float[4]).build().write(sd);
        Path m = path("m.safetensors");
        r = CliTest.run("import-torch", "--state-dict", sd.toString(), "--arch", "linear:relu", "--out", m.toString());
        assertEquals(Main.EXIT_ERROR, r.code());
        assertEquals("checkprop: " + sd + ": unexpected tensor 1.weight (module 1 is relu, which has no parameters)"
                + " (load_state_dict(strict=True) would refuse it too)\n", r.err());
        r = CliTest.run("import-torch", "--state-dict", sd.toString(), "--arch", "linear:swish", "--out", m.toString());
        assertEquals("checkprop: architecture item 1 'linear:swish': unknown activation 'swish' after linear (expected tanh,"
                + " relu, sigmoid, gelu)\n", r.err());
        boolean gelu = List.of(Activation.values()).stream().anyMatch(a -> a.fileName().equals("gelu"));
        if (!gelu) {
            r = CliTest.run("import-torch", "--state-dict", sd.toString(), "--arch", "linear:gelu", "--out", m.toString());
            assertEquals(Main.EXIT_ERROR, r.code());
            assertTrue(r.err().startsWith("checkprop: architecture item 1 'linear:gelu': gelu is not supported by this version"
                    + " of checkprop"), r.err());
        }
        assertFalse(Files.exists(m));
    }

    @Test
    void mseMeanIsAcceptedByEveryCommandThatTakesALoss() throws Exception {
        Path model = path("m.safetensors");
        Path data = path("d.safetensors");
        CliTest.Result r = CliTest.run("init", "--input", "3", "--layers", "3", "--width", "5", "--output", "2",
                "--out", model.toString(), "--data", data.toString(), "--batch", "6", "--loss", "mse-mean");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("6 samples for mse-mean"), r.out());
        assertTrue(SafeTensors.read(data).has("y"), "init --loss mse-mean writes targets");

        Path g = path("g.safetensors");
        r = CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "mse-mean",
                "--plan", "sqrt", "--out", g.toString());
        assertEquals(0, r.code(), r.err());
        Network net = ModelFile.load(model);
        Batch batch = ModelFile.loadData(data, Loss.MSE_MEAN);
        Gradients expected = Gradients.zerosLike(net);
        double loss;
        try (Executor ex = new Executor(net, Planners.parse("full").plan(net.depth()), 6)) {
            loss = ex.gradient(batch, Loss.MSE_MEAN, expected);
        }
        SafeTensors written = SafeTensors.read(g);
        assertEquals(Double.toString(loss), written.metadata().get("loss"));
        assertArrayEquals(expected.weights(1), written.tensor("layers.0.weight").toFloatArray());

        r = CliTest.run("diagnose", "--model", model.toString(), "--data", data.toString(), "--loss", "mse-mean");
        assertEquals(0, r.code(), r.err());
        r = CliTest.run("hvp", "--model", model.toString(), "--data", data.toString(), "--loss", "mse-mean",
                "--vector", g.toString(), "--out", path("hv.safetensors").toString());
        assertEquals(0, r.code(), r.err());
        r = CliTest.run("grad", "--model", model.toString(), "--data", data.toString(), "--loss", "l1", "--out", g.toString());
        assertEquals("checkprop: unknown loss 'l1' (expected mse, mse-mean or softmax-ce)\n", r.err());
    }
}
