package dev.checkprop.io;

import static dev.checkprop.io.Bytes.concat;
import static dev.checkprop.io.Bytes.f32;
import static dev.checkprop.io.Bytes.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsFormatTest {

    private static final int QUIET_NAN_WITH_PAYLOAD = 0x7fc0_0123;

    private static SafeTensors sample() {
        return SafeTensors.builder()
                .putF32("weights", new long[] {2, 3}, new float[] {
                    1.5f, -0.0f, Float.intBitsToFloat(QUIET_NAN_WITH_PAYLOAD),
                    Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE})
                .putI32("labels", new long[] {4}, new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE})
                .putI64("ids", new long[] {2, 2}, new long[] {Long.MIN_VALUE, Long.MAX_VALUE, 0, -5})
                .putF32("scalar", new long[0], new float[] {42f})
                .putF32("empty", new long[] {0}, new float[0])
                .putI64("empty2", new long[] {3, 0}, new long[0])
                .put(Tensor.of("half", DType.F16, new long[] {2}, new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}))
                .metadata("format", "pt")
                .metadata("note", "quote\" backslash\\ slash/ tab\t nul\u0000 del\u007f é 😀")
                .metadata("", "")
                .build();
    }

    private static void assertSampleValues(SafeTensors st) throws SafeTensorsException {
        assertEquals(List.of("empty", "empty2", "half", "ids", "labels", "scalar", "weights"), st.names());

        Tensor w = st.tensor("weights");
        assertEquals(DType.F32, w.dtype());
        assertArrayEquals(new long[] {2, 3}, w.shape());
        int[] bits = new int[6];
        float[] values = w.toFloatArray();
        for (int i = 0; i < 6; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        assertArrayEquals(new int[] {0x3fc0_0000, 0x8000_0000, QUIET_NAN_WITH_PAYLOAD, 0x7f80_0000, 0xff80_0000, 1}, bits);

        assertArrayEquals(new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}, st.tensor("labels").labelsAsInts());
        assertArrayEquals(Bytes.i64(Long.MIN_VALUE, Long.MAX_VALUE, 0, -5), st.tensor("ids").rawData());
        assertEquals(DType.I64, st.tensor("ids").dtype());

        Tensor scalar = st.tensor("scalar");
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.elementCount());
        assertArrayEquals(new float[] {42f}, scalar.toFloatArray());

        assertEquals(0, st.tensor("empty").elementCount());
        assertArrayEquals(new long[] {0}, st.tensor("empty").shape());
        assertEquals(0, st.tensor("empty").toFloatArray().length);
        assertArrayEquals(new long[] {3, 0}, st.tensor("empty2").shape());
        assertEquals(0, st.tensor("empty2").labelsAsInts().length);

        assertEquals(DType.F16, st.tensor("half").dtype());
        assertArrayEquals(new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}, st.tensor("half").rawData());

        assertEquals(Map.of("format", "pt", "note", "quote\" backslash\\ slash/ tab\t nul\u0000 del\u007f é 😀", "", ""),
                st.metadata());
    }

    @Test
    void roundTripThroughBytesKeepsEveryValueAndTheMetadata() throws Exception {
        SafeTensors original = sample();
        assertSampleValues(original);
        SafeTensors back = SafeTensors.read(original.toBytes(), "round-trip");
        assertSampleValues(back);
        assertEquals(original, back);
        // A second round trip must reproduce the very same bytes.
        assertArrayEquals(original.toBytes(), back.toBytes());
    }

    @Test
    void roundTripThroughAFile(@TempDir Path dir) throws Exception {
        SafeTensors original = sample();
        Path path = dir.resolve("sample.safetensors");
        original.write(path);
        assertArrayEquals(original.toBytes(), Files.readAllBytes(path));
        SafeTensors back = SafeTensors.read(path);
        assertSampleValues(back);
        assertEquals(original, back);
    }

    @Test
    void writesTheReferenceBytesForATensorWhoseHeaderNeedsNoPadding() throws Exception {
        // The reference implementation's own test vector: 64 header bytes, already 8-aligned.
        String header = "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}";
        byte[] expected = concat(new byte[] {64, 0, 0, 0, 0, 0, 0, 0}, header.getBytes(StandardCharsets.US_ASCII),
                new byte[] {0, 0, 0, 0, 0, 0, (byte) 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, (byte) 128, 64,
                    0, 0, (byte) 160, 64});
        SafeTensors st = SafeTensors.builder()
                .putF32("attn.0", new long[] {1, 2, 3}, new float[] {0, 1, 2, 3, 4, 5}).build();
        assertArrayEquals(expected, st.toBytes());
        assertEquals(st, SafeTensors.read(expected, "vector"));
    }

    @Test
    void padsTheHeaderWithSpacesToAnEightByteBoundary() throws Exception {
        String header = "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}";
        assertEquals(65, header.length());
        byte[] expected = concat(new byte[] {72, 0, 0, 0, 0, 0, 0, 0}, (header + "       ").getBytes(StandardCharsets.US_ASCII),
                f32(0, 1, 2, 3, 4, 5));
        SafeTensors st = SafeTensors.builder()
                .putF32("attn0", new long[] {1, 1, 2, 3}, new float[] {0, 1, 2, 3, 4, 5}).build();
        assertArrayEquals(expected, st.toBytes());
    }

    @Test
    void writesEmptyFilesAsTheReferenceDoes() {
        assertArrayEquals(concat(new byte[] {8, 0, 0, 0, 0, 0, 0, 0}, "{}      ".getBytes(StandardCharsets.US_ASCII)),
                SafeTensors.builder().build().toBytes());
        assertArrayEquals(concat(new byte[] {40, 0, 0, 0, 0, 0, 0, 0},
                "{\"__metadata__\":{\"framework\":\"pt\"}}     ".getBytes(StandardCharsets.US_ASCII)),
                SafeTensors.builder().metadata("framework", "pt").build().toBytes());
    }

    @Test
    void laysTensorsOutByDecreasingAlignmentThenNameAndEscapesLikeSerdeJson() throws Exception {
        SafeTensors st = SafeTensors.builder()
                .putF32("b", new long[] {1}, new float[] {3})
                .putI32("c", new long[] {1}, new int[] {4})
                .putF32("a", new long[] {2}, new float[] {1, 2})
                .putI64("d", new long[] {1}, new long[] {7})
                .metadata("k\"", "line\nbreak\u0001é😀")
                .build();
        String json = "{\"__metadata__\":{\"k\\\"\":\"line\\nbreak\\u0001é😀\"},"
                + "\"d\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"c\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[20,24]}}";
        int length = json.getBytes(StandardCharsets.UTF_8).length;
        String padded = json + " ".repeat((8 - length % 8) % 8);
        byte[] expected = file(padded, concat(Bytes.i64(7), f32(1, 2, 3), Bytes.le32(4)));
        assertArrayEquals(expected, st.toBytes());
        assertEquals(st, SafeTensors.read(expected, "layout"));
    }

    @Test
    void alignsTheDataSectionAndEveryTensorToItsElementSize() throws Exception {
        Pattern entry = Pattern.compile("\"([^\"]+)\":\\{\"dtype\":\"(\\w+)\",\"shape\":\\[[0-9,]*\\],\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}");
        for (int nameLength = 1; nameLength <= 17; nameLength++) {
            String name = "n".repeat(nameLength);
            SafeTensors st = SafeTensors.builder()
                    .put(Tensor.of(name + "_bool", DType.BOOL, new long[] {3}, new byte[3]))
                    .put(Tensor.of(name + "_f64", DType.F64, new long[] {1}, new byte[8]))
                    .put(Tensor.of(name + "_bf16", DType.BF16, new long[] {1}, new byte[2]))
                    .putF32(name + "_f32", new long[] {1}, new float[] {1})
                    .putI64(name + "_i64", new long[] {1}, new long[] {1})
                    .build();
            byte[] bytes = st.toBytes();
            long n = java.nio.ByteBuffer.wrap(bytes).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
            assertEquals(0, (8 + n) % 8, "data section start for name length " + nameLength);
            String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
            String json = header.stripTrailing();
            assertTrue(json.endsWith("}"));
            assertTrue(header.length() - json.length() < 8, "at most 7 spaces of padding");
            assertEquals(" ".repeat(header.length() - json.length()), header.substring(json.length()));
            Matcher m = entry.matcher(json);
            int found = 0;
            while (m.find()) {
                found++;
                long absolute = 8 + n + Long.parseLong(m.group(3));
                assertEquals(0, absolute % DType.valueOf(m.group(2)).byteSize(), m.group(1) + " is misaligned");
            }
            assertEquals(5, found);
        }
    }

    @Test
    void readsAHeaderWrittenInThePyTorchStyleWithKeysOutOfDataOrder() throws Exception {
        String header = "{\"__metadata__\": {\"format\": \"pt\"}, "
                + "\"w\": {\"dtype\": \"F32\", \"shape\": [2, 2], \"data_offsets\": [8, 24]}, "
                + "\"b\": {\"shape\": [2], \"data_offsets\": [0, 8], \"dtype\": \"F32\"}}";
        SafeTensors st = SafeTensors.read(file(header + "   ", f32(0.5f, -0.5f, 1, 2, 3, 4)), "torch.safetensors");
        assertEquals(List.of("b", "w"), st.names());
        assertArrayEquals(new float[] {0.5f, -0.5f}, st.tensor("b").toFloatArray());
        assertArrayEquals(new float[] {1, 2, 3, 4}, st.tensor("w").toFloatArray());
        assertArrayEquals(new long[] {2, 2}, st.tensor("w").shape());
        assertEquals(2, st.tensor("w").dim(1));
        assertEquals(Map.of("format", "pt"), st.metadata());
    }

    @Test
    void acceptsAnyJsonWhitespaceAndIgnoresUnknownTensorFields() throws Exception {
        String header = "{\n\t\"x\" :\r\n {\"extra\": {\"nested\": [1, -2.5e3, 0.0, true, false, null, \"s\\u00e9\", {}, []]},"
                + " \"dtype\":\"I32\", \"shape\":[ ], \"data_offsets\":[0 ,4]}\n}\n\t\r ";
        SafeTensors st = SafeTensors.read(file(header, Bytes.le32(-7)), "numpy");
        assertArrayEquals(new int[] {-7}, st.tensor("x").labelsAsInts());
        assertTrue(st.metadata().isEmpty());
    }

    @Test
    void answersWhetherATensorExistsAndNamesTheFileOfAMissingOne() throws Exception {
        SafeTensors st = SafeTensors.read(sample().toBytes(), "model.safetensors");
        assertTrue(st.has("weights"));
        assertFalse(st.has("weight"));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.tensor("weight"));
        assertTrue(e.getMessage().startsWith("model.safetensors: "), e.getMessage());
        assertTrue(e.getMessage().contains("\"weight\""), e.getMessage());
    }

    @Test
    void ordersNamesByCodePointAsTheReferenceDoes() {
        // U+FF01 sorts before U+1F600 by code point, but after it by UTF-16 unit.
        SafeTensors st = SafeTensors.builder()
                .putF32("😀", new long[] {1}, new float[] {1})
                .putF32("！", new long[] {1}, new float[] {2})
                .putF32("a", new long[] {1}, new float[] {3})
                .build();
        assertEquals(List.of("a", "！", "😀"), st.names());
        String header = new String(st.toBytes(), StandardCharsets.UTF_8);
        assertTrue(header.indexOf("\"a\"") < header.indexOf("\"！\"") && header.indexOf("\"！\"") < header.indexOf("\"😀\""));
    }
}
