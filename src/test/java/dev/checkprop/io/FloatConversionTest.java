package dev.checkprop.io;

import static dev.checkprop.io.Bytes.concat;
import static dev.checkprop.io.Bytes.f32;
import static dev.checkprop.io.Bytes.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.nn.Batch;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * F16, BF16 and F64 tensors read as F32: every F16 and BF16 bit pattern against a reference built
 * from the formats' definitions in double, F64 rounding at its edges, the chunked file path against
 * the in-memory one, and what the model and data loaders then make of non-finite values.
 */
class FloatConversionTest {

    @TempDir
    Path dir;

    static byte[] le16(int... values) {
        byte[] out = new byte[2 * values.length];
        for (int k = 0; k < values.length; k++) {
            out[2 * k] = (byte) values[k];
            out[2 * k + 1] = (byte) (values[k] >>> 8);
        }
        return out;
    }

    static byte[] f64(double... values) {
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Double.doubleToRawLongBits(values[i]);
        }
        return Bytes.i64(bits);
    }

    /** IEEE binary16 by its definition: (-1)^s 2^(e-15) (1 + m/1024), subnormal 2^-14 m/1024. */
    static double f16Reference(int h) {
        int s = (h >>> 15) & 1;
        int e = (h >>> 10) & 0x1f;
        int m = h & 0x3ff;
        double sign = s == 1 ? -1 : 1;
        if (e == 0x1f) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (e == 0) {
            return sign * Math.scalb(m / 1024.0, -14);
        }
        return sign * Math.scalb(1 + m / 1024.0, e - 15);
    }

    /** bfloat16 by its definition: (-1)^s 2^(e-127) (1 + m/128), subnormal 2^-126 m/128. */
    static double bf16Reference(int b) {
        int s = (b >>> 15) & 1;
        int e = (b >>> 7) & 0xff;
        int m = b & 0x7f;
        double sign = s == 1 ? -1 : 1;
        if (e == 0xff) {
            return m == 0 ? sign * Double.POSITIVE_INFINITY : Double.NaN;
        }
        if (e == 0) {
            return sign * Math.scalb(m / 128.0, -126);
        }
        return sign * Math.scalb(1 + m / 128.0, e - 127);
    }

    @Test
    void everyF16BitPatternConvertsExactly() {
        for (int bits = 0; bits < 1 << 16; bits++) {
            final int h = bits;
            float f = FloatFormats.f16(h);
            double expected = f16Reference(h);
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(f), () -> "NaN pattern " + Integer.toHexString(h));
                // Sign and payload kept: the 10 mantissa bits at the top of the float's 23.
                assertEquals((h & 0x8000) << 16 | 0x7f800000 | (h & 0x3ff) << 13, Float.floatToRawIntBits(f));
            } else {
                // Exact: the float, widened, is the binary16 value itself; zeros keep their sign.
                assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(f),
                        () -> "pattern " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void knownF16Values() {
        assertEquals(0f, FloatFormats.f16(0x0000));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(FloatFormats.f16(0x8000)));
        assertEquals(1f, FloatFormats.f16(0x3c00));
        assertEquals(-2f, FloatFormats.f16(0xc000));
        assertEquals(65504f, FloatFormats.f16(0x7bff)); // largest finite
        assertEquals(0x1p-14f, FloatFormats.f16(0x0400)); // smallest normal
        assertEquals(0x1p-24f, FloatFormats.f16(0x0001)); // smallest subnormal
        assertEquals(1023 * 0x1p-24f, FloatFormats.f16(0x03ff)); // largest subnormal
        assertEquals(-0x1p-24f, FloatFormats.f16(0x8001));
        assertEquals(0.333251953125f, FloatFormats.f16(0x3555));
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.f16(0x7c00));
        assertEquals(Float.NEGATIVE_INFINITY, FloatFormats.f16(0xfc00));
        assertTrue(Float.isNaN(FloatFormats.f16(0x7e00)));
    }

    @Test
    void everyBf16BitPatternConvertsExactly() {
        for (int b = 0; b < 1 << 16; b++) {
            float f = FloatFormats.bf16(b);
            double expected = bf16Reference(b);
            assertEquals(b << 16, Float.floatToRawIntBits(f), "the upper half of an F32");
            if (Double.isNaN(expected)) {
                assertTrue(Float.isNaN(f));
            } else {
                assertEquals(expected, (double) f, "pattern " + Integer.toHexString(b));
            }
        }
        assertEquals(1f, FloatFormats.bf16(0x3f80));
        assertEquals(-1f, FloatFormats.bf16(0xbf80));
        assertEquals(0x1p-133f, FloatFormats.bf16(0x0001)); // a float subnormal, kept
        assertEquals(0x1p-126f, FloatFormats.bf16(0x0080));
        assertEquals(3.3895314e38f, FloatFormats.bf16(0x7f7f)); // largest finite
        assertEquals(Float.POSITIVE_INFINITY, FloatFormats.bf16(0x7f80));
        assertEquals(Float.NEGATIVE_INFINITY, FloatFormats.bf16(0xff80));
        assertTrue(Float.isNaN(FloatFormats.bf16(0x7fc0)));
    }

    @Test
    void f64RoundsToTheNearestFloatTiesToEven() throws Exception {
        double[] in = {1.0, 0.1, -2.5, 1 + 0x1p-24, 1 + 3 * 0x1p-24, 1e-40, Double.MIN_VALUE, -1e-50,
            Float.MAX_VALUE, 3.4028235677973362E38, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0x1p-149};
        float[] expected = {1f, 0.1f, -2.5f, 1f, 1 + 0x1p-22f, Float.parseFloat("1e-40"), 0f, -0f,
            Float.MAX_VALUE, Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MIN_VALUE};
        SafeTensors st = SafeTensors.builder().put(Tensor.of("x", DType.F64, new long[] {in.length}, f64(in))).build();
        float[] got = st.tensor("x").toFloatArray();
        for (int i = 0; i < in.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(got[i]), "F64 " + in[i]);
        }
        // -1e-50 rounds to a zero of its sign.
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(got[7]));
    }

    @Test
    void aFiniteF64BeyondTheFloatRangeIsAnErrorNamingItsIndex() throws Exception {
        // The halfway point between Float.MAX_VALUE and 2^128 rounds (to even) to infinity.
        for (double big : new double[] {1e300, -1e39, 3.4028235677973366E38}) {
            Tensor t = SafeTensors.builder().put(Tensor.of("w", DType.F64, new long[] {3}, f64(0, 1, big))).build().tensor("w");
            SafeTensorsException e = assertThrows(SafeTensorsException.class, t::toFloatArray);
            assertTrue(e.getMessage().contains("tensor \"w\" (F64) value " + big + " at flat index 2 is beyond the F32 range"),
                    e.getMessage());
        }
        // Through the file reader, past its first 64 KiB chunk (8192 doubles): the index is the tensor's.
        double[] many = new double[10_000];
        many[9_000] = 1e300;
        Path p = dir.resolve("big.safetensors");
        Files.write(p, file("{\"w\":{\"dtype\":\"F64\",\"shape\":[10000],\"data_offsets\":[0,80000]}}", f64(many)));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.readAsF32(p));
        assertTrue(e.getMessage().startsWith(p + ": tensor \"w\" (F64) value 1.0E300 at flat index 9000"), e.getMessage());
        // Read faithfully, the file is fine: the value is only refused when converted.
        assertEquals(DType.F64, SafeTensors.read(p).tensor("w").dtype());
    }

    @Test
    void theFileReaderConvertsAsTheInMemoryTensorsDoAcrossChunks() throws Exception {
        // 40,000 F16 (80 KB), 40,000 BF16 and 10,000 F64 (80 KB): each spans two 64 KiB chunks.
        int[] h = new int[40_000];
        int[] b = new int[40_000];
        double[] d = new double[10_000];
        for (int i = 0; i < h.length; i++) {
            h[i] = (i * 7919) & 0xffff;
            b[i] = (i * 104729) & 0xffff;
        }
        for (int i = 0; i < d.length; i++) {
            d[i] = Math.sin(i) * Math.pow(10, (i % 60) - 30);
        }
        SafeTensors built = SafeTensors.builder()
                .put(Tensor.of("h", DType.F16, new long[] {200, 200}, le16(h)))
                .put(Tensor.of("b", DType.BF16, new long[] {40_000}, le16(b)))
                .put(Tensor.of("d", DType.F64, new long[] {100, 100}, f64(d)))
                .putF32("f", new long[] {2}, new float[] {1.5f, -0f})
                .putI64("labels", new long[] {2}, new long[] {3, 4})
                .metadata("k", "v")
                .build();
        Path p = dir.resolve("mixed.safetensors");
        built.write(p);

        SafeTensors faithful = SafeTensors.read(p);
        assertEquals(built, faithful);
        assertEquals(DType.F16, faithful.tensor("h").dtype());
        assertEquals(Map.of(), faithful.conversions());

        SafeTensors converted = SafeTensors.readAsF32(p);
        for (String name : new String[] {"h", "b", "d", "f"}) {
            Tensor t = converted.tensor(name);
            assertEquals(DType.F32, t.dtype());
            assertEquals(built.tensor(name).storedAs(), t.storedAs());
            assertArrayEquals(built.tensor(name).shape(), t.shape());
            float[] expected = built.tensor(name).toFloatArray();
            float[] got = t.toFloatArray();
            for (int i = 0; i < expected.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]), name + "[" + i + "]");
            }
        }
        for (int i = 0; i < h.length; i++) {
            assertEquals(Float.floatToRawIntBits(FloatFormats.f16(h[i])),
                    Float.floatToRawIntBits(converted.tensor("h").toFloatArray()[i]));
        }
        assertEquals(DType.I64, converted.tensor("labels").dtype());
        assertEquals(Map.of("k", "v"), converted.metadata());
        assertEquals(Map.of(DType.F16, 1, DType.BF16, 1, DType.F64, 1), converted.conversions());
        assertEquals("converted 1 tensor from f16, 1 from bf16 and 1 from f64 to f32",
                SafeTensors.describeConversions(converted.conversions()));
        assertEquals("converted 3 tensors from bf16 to f32", SafeTensors.describeConversions(Map.of(DType.BF16, 3)));
        assertEquals("converted 2 tensors from f16 and 1 from f64 to f32",
                SafeTensors.describeConversions(Map.of(DType.F64, 1, DType.F16, 2)));
        assertEquals("", SafeTensors.describeConversions(Map.of()));
        assertTrue(converted.tensor("h").toString().contains("F32 (from F16)"), converted.tensor("h").toString());

        // Written back, a converted file is F32 throughout, with the same values.
        Path back = dir.resolve("back.safetensors");
        converted.write(back);
        SafeTensors again = SafeTensors.read(back);
        assertEquals(converted, again);
        assertEquals(DType.F32, again.tensor("d").dtype());
    }

    @Test
    void aBf16ModelLoadsAsF32AndItsNaNIsRefusedAsAnF32OnesIs() throws Exception {
        // layers.0: 2 -> 1, weight [1, 2] = {1.5, -0.25}, bias [1] = {2^-24, the smallest F16 subnormal}.
        String header = "{\"__metadata__\":{\"layers.0.activation\":\"tanh\"},"
                + "\"layers.0.weight\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[0,4]},"
                + "\"layers.0.bias\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[4,6]}}";
        Path m = dir.resolve("m.safetensors");
        Files.write(m, file(header, le16(0x3fc0, 0xbe80, 0x0001)));
        Network net = ModelFile.load(m);
        DenseLayer layer = (DenseLayer) net.layer(1);
        assertArrayEquals(new float[] {1.5f, -0.25f}, layer.weights());
        assertArrayEquals(new float[] {0x1p-24f}, layer.bias());

        Files.write(m, file(header, le16(0x3fc0, 0x7fc0, 0x0001)));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(m));
        assertEquals(m + ": layers.0.weight[0, 1] is NaN: values must be finite", e.getMessage());
        Files.write(m, file(header, le16(0x3fc0, 0x3f80, 0xfc00)));
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(m));
        assertEquals(m + ": layers.0.bias[0] is -Infinity: values must be finite", e.getMessage());
    }

    @Test
    void f64DataAsNumpyWritesItLoadsAsF32() throws Exception {
        // x [2, 2] F64 (numpy's default), y [2, 1] F32, mixed in one file.
        String header = "{\"x\":{\"dtype\":\"F64\",\"shape\":[2,2],\"data_offsets\":[0,32]},"
                + "\"y\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[32,40]}}";
        Path d = dir.resolve("d.safetensors");
        Files.write(d, file(header, concat(f64(0.1, -1, 1e-46, 3), f32(1, 2))));
        Batch b = ModelFile.loadData(d, Loss.MSE_MEAN);
        assertArrayEquals(new float[] {0.1f, -1f, 0f, 3f}, b.inputs());
        assertArrayEquals(new float[] {1f, 2f}, b.targets());

        Files.write(d, file(header, concat(f64(0.1, Double.POSITIVE_INFINITY, 0, 3), f32(1, 2))));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.loadData(d, Loss.MSE));
        assertEquals(d + ": x[0, 1] is Infinity: values must be finite", e.getMessage());
    }

    @Test
    void aNumberTooLargeForAFloatInAModelIsNamedNotMadeInfinite() throws IOException {
        String header = "{\"__metadata__\":{\"layers.0.activation\":\"identity\"},"
                + "\"layers.0.weight\":{\"dtype\":\"F64\",\"shape\":[1,1],\"data_offsets\":[0,8]},"
                + "\"layers.0.bias\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]}}";
        Path m = dir.resolve("m.safetensors");
        Files.write(m, file(header, f64(1, -5e40)));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(m));
        assertTrue(e.getMessage().startsWith(m + ": tensor \"layers.0.bias\" (F64) value -5.0E40 at flat index 0 is beyond"
                + " the F32 range"), e.getMessage());
    }
}
