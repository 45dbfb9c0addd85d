package dev.checkprop.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.checkprop.io.DType;
import dev.checkprop.io.ModelFile;
import dev.checkprop.io.SafeTensors;
import dev.checkprop.io.Tensor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every command that reads inputs converts F16, BF16 and F64 tensors to F32 and says so on the console
 * and in its report; the result is that of an F32 file holding the rounded values, bit for bit.
 */
class ConversionNoteTest {

    @TempDir
    Path dir;

    private static byte[] f64(double[] v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) {
            b.putDouble(d);
        }
        return b.array();
    }

    private static byte[] i64(long[] v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long l : v) {
            b.putLong(l);
        }
        return b.array();
    }

    @Test
    void f64DataIsConvertedSaidSoAndGivesTheGradientOfItsRoundedF32Copy() throws Exception {
        Network net = Network.builder(5).dense(7, Activation.TANH).dense(3, Activation.IDENTITY).build(3);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        int n = 40;
        double[] x = new double[n * 5];
        float[] xf = new float[x.length];
        java.util.Random rnd = new java.util.Random(7);
        for (int i = 0; i < x.length; i++) {
            x[i] = rnd.nextGaussian() / 3;   // not representable in float: rounding happens
            xf[i] = (float) x[i];
        }
        long[] labels = new long[n];
        int[] labels32 = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            labels32[i] = i % 3;
        }
        Path d64 = dir.resolve("d64.safetensors");
        SafeTensors.builder().put(Tensor.of("x", DType.F64, new long[] {n, 5}, f64(x)))
                .put(Tensor.of("labels", DType.I64, new long[] {n}, i64(labels))).build().write(d64);
        Path d32 = dir.resolve("d32.safetensors");
        SafeTensors.builder().putF32("x", new long[] {n, 5}, xf).putI32("labels", new long[] {n}, labels32).build().write(d32);

        Path g64 = dir.resolve("g64.safetensors");
        Path report = dir.resolve("r.json");
        CliTest.Result r = CliTest.run("grad", "--model", model.toString(), "--data", d64.toString(), "--loss", "softmax-ce",
                "--plan", "sqrt", "--out", g64.toString(), "--report", report.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("read " + d64 + ": converted 1 tensor from f64 to f32\n"), r.out());
        assertFalse(r.out().contains("read " + model), r.out());   // an F32 file: nothing to say
        JsonNode conv = new ObjectMapper().readTree(report.toFile()).get("conversions");
        assertEquals(1, conv.size());
        assertEquals("converted 1 tensor from f64 to f32", conv.get(d64.toString()).asText());

        Path g32 = dir.resolve("g32.safetensors");
        Path report32 = dir.resolve("r32.json");
        r = CliTest.run("grad", "--model", model.toString(), "--data", d32.toString(), "--loss", "softmax-ce",
                "--plan", "sqrt", "--out", g32.toString(), "--report", report32.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().contains("converted"), r.out());
        assertFalse(new ObjectMapper().readTree(report32.toFile()).has("conversions"));
        assertArrayEquals(Files.readAllBytes(g32), Files.readAllBytes(g64));
    }

    @Test
    void predictReadsF16InputsAndSaysSo() throws Exception {
        Network net = Network.builder(2).dense(4, Activation.RELU).dense(2, Activation.IDENTITY).build(5);
        Path model = dir.resolve("m.safetensors");
        ModelFile.save(net, model);
        // 0.5, -1.25, 3, 0.375 are exact in binary16, so the F32 copy holds the same values.
        short[] halves = {0x3800, (short) 0xbd00, 0x4200, 0x3600};
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (short h : halves) {
            b.putShort(h);
        }
        Path d16 = dir.resolve("x16.safetensors");
        SafeTensors.builder().put(Tensor.of("x", DType.F16, new long[] {2, 2}, b.array())).build().write(d16);
        Path d32 = dir.resolve("x32.safetensors");
        SafeTensors.builder().putF32("x", new long[] {2, 2}, new float[] {0.5f, -1.25f, 3f, 0.375f}).build().write(d32);
        Path o16 = dir.resolve("o16.safetensors");
        Path o32 = dir.resolve("o32.safetensors");
        CliTest.Result r = CliTest.run("predict", "--model", model.toString(), "--data", d16.toString(), "--out", o16.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("read " + d16 + ": converted 1 tensor from f16 to f32\n"), r.out());
        r = CliTest.run("predict", "--model", model.toString(), "--data", d32.toString(), "--out", o32.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(SafeTensors.read(o32).tensor("outputs").toFloatArray(),
                SafeTensors.read(o16).tensor("outputs").toFloatArray());
    }
}
