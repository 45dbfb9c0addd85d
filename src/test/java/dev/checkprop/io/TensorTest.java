package dev.checkprop.io;

import static dev.checkprop.io.Bytes.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class TensorTest {

    private static void assertMessage(Throwable e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
    }

    private static void rejectsArgument(Executable call, String... fragments) {
        assertMessage(assertThrows(IllegalArgumentException.class, call), fragments);
    }

    @Test
    void readsLabelsStoredAsI32OrI64() throws Exception {
        SafeTensors st = SafeTensors.builder()
                .putI32("y32", new long[] {3}, new int[] {0, 9, -2})
                .putI64("y64", new long[] {2, 2}, new long[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 7})
                .build();
        SafeTensors back = SafeTensors.read(st.toBytes(), "labels.safetensors");
        assertArrayEquals(new int[] {0, 9, -2}, back.tensor("y32").labelsAsInts());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE, 0, 7}, back.tensor("y64").labelsAsInts());
    }

    @Test
    void rejectsI64LabelsOutsideIntRangeNamingTheFileTensorAndIndex() throws Exception {
        String header = "{\"y\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[0,24]}}";
        SafeTensors st = SafeTensors.read(file(header, Bytes.i64(1, 2, 1L << 31)), "labels.safetensors");
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> st.tensor("y").labelsAsInts());
        assertMessage(e, "labels.safetensors: ", "tensor \"y\"", "2147483648", "flat index 2");

        Tensor low = SafeTensors.builder().putI64("z", new long[] {1}, new long[] {Integer.MIN_VALUE - 1L}).build().tensor("z");
        assertMessage(assertThrows(SafeTensorsException.class, low::labelsAsInts), "tensor \"z\"", "flat index 0");
    }

    @Test
    void typedGettersNameTheTensorItsDtypeAndTheExpectedOne() throws Exception {
        String header = "{\"w\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"h\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[4,12]}}";
        SafeTensors st = SafeTensors.read(file(header, new byte[12]), "m.safetensors");
        assertMessage(assertThrows(SafeTensorsException.class, () -> st.tensor("w").toFloatArray()),
                "m.safetensors: ", "tensor \"w\"", "dtype I32", "expected F32, F16, BF16 or F64");
        assertMessage(assertThrows(SafeTensorsException.class, () -> st.tensor("h").labelsAsInts()),
                "m.safetensors: ", "tensor \"h\"", "dtype F64", "expected I32 or I64");
        // Floating-point dtypes convert (FloatConversionTest has the values).
        assertArrayEquals(new float[] {0f}, st.tensor("h").toFloatArray());
    }

    @Test
    void describesItsShape() throws Exception {
        Tensor t = SafeTensors.builder().putF32("t", new long[] {2, 3, 4}, new float[24]).build().tensor("t");
        assertEquals(3, t.rank());
        assertEquals(24, t.elementCount());
        assertEquals(2, t.dim(0));
        assertEquals(4, t.dim(2));
        assertEquals(96, t.byteSize());
        assertThrows(IndexOutOfBoundsException.class, () -> t.dim(3));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dim(-1));
    }

    @Test
    void isImmutable() throws Exception {
        long[] shape = {2};
        float[] data = {1, 2};
        Tensor t = SafeTensors.builder().putF32("t", shape, data).build().tensor("t");
        shape[0] = 7;
        data[0] = 9;
        t.shape()[0] = 5;
        t.rawData()[0] = 1;
        t.toFloatArray()[1] = 8;
        assertArrayEquals(new long[] {2}, t.shape());
        assertArrayEquals(new float[] {1, 2}, t.toFloatArray());

        byte[] raw = {1, 2};
        Tensor u = Tensor.of("u", DType.U8, new long[] {2}, raw);
        raw[0] = 3;
        assertArrayEquals(new byte[] {1, 2}, u.rawData());
        assertThrows(UnsupportedOperationException.class,
                () -> SafeTensors.builder().metadata("a", "b").build().metadata().put("c", "d"));
    }

    @Test
    void builderRejectsBadTensorsNamingThem() {
        rejectsArgument(() -> SafeTensors.builder().putF32("w", new long[] {2, 3}, new float[5]), "tensor \"w\"", "[2, 3]", "got 5");
        rejectsArgument(() -> SafeTensors.builder().putI32("y", new long[0], new int[0]), "tensor \"y\"", "needs 1");
        rejectsArgument(() -> SafeTensors.builder().putI64("y", new long[] {-1}, new long[0]), "tensor \"y\"", "[-1]");
        rejectsArgument(() -> SafeTensors.builder().putF32("big", new long[] {1L << 31}, new float[0]), "tensor \"big\"");
        rejectsArgument(() -> SafeTensors.builder().putF32("o", new long[] {1L << 30, 1L << 30, 1L << 30, 0}, new float[0]),
                "tensor \"o\"", "overflows");
        rejectsArgument(() -> Tensor.of("h", DType.F16, new long[] {2}, new byte[3]), "tensor \"h\"", "3 bytes");
        rejectsArgument(() -> SafeTensors.builder().putF32("__metadata__", new long[0], new float[1]), "__metadata__");
        rejectsArgument(() -> SafeTensors.builder().putF32("bad\ud800", new long[0], new float[1]), "unpaired surrogate");
        rejectsArgument(() -> SafeTensors.builder()
                .putF32("w", new long[] {1}, new float[1])
                .putI32("w", new long[] {1}, new int[1]), "duplicate tensor \"w\"");
        rejectsArgument(() -> SafeTensors.builder().metadata("k", "1").metadata("k", "2"), "duplicate metadata key \"k\"");
        rejectsArgument(() -> SafeTensors.builder().metadata("k", "\udc00"), "metadata \"k\"", "unpaired surrogate");
        assertThrows(NullPointerException.class, () -> SafeTensors.builder().metadata("k", null));
    }

    @Test
    void builderAcceptsNonFiniteValues() throws Exception {
        float[] values = {Float.NaN, Float.POSITIVE_INFINITY};
        SafeTensors st = SafeTensors.builder().putF32("w", new long[] {2}, values).build();
        assertArrayEquals(values, SafeTensors.read(st.toBytes(), "nan").tensor("w").toFloatArray());
    }

    @Test
    void equalityIgnoresWhereATensorCameFrom() throws Exception {
        SafeTensors built = SafeTensors.builder().putF32("w", new long[] {1}, new float[] {1}).build();
        SafeTensors read = SafeTensors.read(built.toBytes(), "elsewhere");
        assertEquals(built.tensor("w"), read.tensor("w"));
        assertEquals(built.tensor("w").hashCode(), read.tensor("w").hashCode());
        SafeTensors other = SafeTensors.builder().putF32("w", new long[] {1}, new float[] {2}).build();
        assertTrue(!built.equals(other) && !built.tensor("w").equals(other.tensor("w")));
    }
}
