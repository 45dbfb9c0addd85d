package dev.checkprop.io;

import static dev.checkprop.io.Bytes.f32;
import static dev.checkprop.io.Bytes.le64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files larger than 2 GiB, made sparse ({@link RandomAccessFile#setLength}): the header is written,
 * the rest of the file is a hole that the file system gives back as zeros without storing it, so
 * these tests use no disk space and take seconds. A tensor is one Java array: one of more than
 * {@value Tensor#MAX_FLOATS} elements is refused, naming it, before anything is allocated.
 */
class LargeFileTest {

    private static final long TWO_GIB = 1L << 31;

    @TempDir
    Path dir;

    /**
     * Writes a file whose header is {@code header} and whose data section is {@code dataLength}
     * bytes: zeros (a hole) except {@code tail}, written at its end.
     */
    static Path sparse(Path path, String header, long dataLength, byte[] tail) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.write(le64(json.length));
            f.write(json);
            f.setLength(8 + json.length + dataLength);
            f.seek(8 + json.length + dataLength - tail.length);
            f.write(tail);
        }
        return path;
    }

    /** 2 GiB of F32 zeros in "pad", then "w" = {1.5, -2, 3e-39} beyond the 2^31st byte. */
    private Path twoGibibytesAndThreeFloats() throws IOException {
        String header = "{\"pad\":{\"dtype\":\"F32\",\"shape\":[536870912],\"data_offsets\":[0," + TWO_GIB + "]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + TWO_GIB + "," + (TWO_GIB + 12) + "]}}";
        return sparse(dir.resolve("large.safetensors"), header, TWO_GIB + 12, f32(1.5f, -2f, 3e-39f));
    }

    @Test
    void aTensorBeyondTheSecondGibibyteIsReadByItsPosition() throws Exception {
        Path p = twoGibibytesAndThreeFloats();
        assertTrue(Files.size(p) > TWO_GIB);
        try (SafeTensors.Reader r = SafeTensors.open(p)) {
            assertEquals(List.of("pad", "w"), r.names());
            assertArrayEquals(new long[] {536870912}, r.shape("pad"));
            assertEquals(DType.F32, r.dtype("pad"));
            // Only w's 12 bytes are read, from file offset 2^31 + 8 + header: the hole is never touched.
            Tensor w = r.read("w", false);
            assertArrayEquals(new float[] {1.5f, -2f, 3e-39f}, w.toFloatArray());
            assertEquals(DType.F32, w.dtype());
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> r.read("nope", true));
            assertEquals(p + ": no tensor \"nope\" (the file has 2 tensors)", e.getMessage());
        }
        // Reading it whole (SafeTensors.read) runs the same per-tensor reads over every tensor; it
        // takes a heap of 3 GiB and, on a cold page cache, about 10 s for the hole, so it is not run
        // here: the next test shows that its only limit is the heap.
    }

    @Test
    void aFileLargerThanTheHeapIsRefusedWithBothSizesBeforeAnyTensorIsAllocated() throws Exception {
        Path p = twoGibibytesAndThreeFloats();
        long usable = dev.checkprop.memory.HeapBudget.usable();
        if (usable >= TWO_GIB + 12) {
            return; // a test JVM with more than 2 GiB of usable heap (the build gives 2 GiB) would read it
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafeTensors.read(p));
        assertTrue(e.getMessage().startsWith(p + ": its 2147483660 bytes of tensors need 2.0 GiB of heap but this JVM can give "),
                e.getMessage());
    }

    @Test
    void aTensorOfMoreElementsThanAnArrayHoldsIsNamed() throws Exception {
        // F32 [2^31 - 8]: one element more than the largest float array; an 8 GiB hole.
        long n = Tensor.MAX_FLOATS + 1L;
        Path f32 = sparse(dir.resolve("f32.safetensors"),
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[" + n + "],\"data_offsets\":[0," + 4 * n + "]}}", 4 * n, new byte[0]);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f32));
        assertEquals(f32 + ": tensor \"w\" (F32, shape [2147483640]) has 2147483640 elements, more than the 2147483639"
                + " one Java array can hold; checkprop keeps every tensor in one array", e.getMessage());

        // F16 [3, 2^30]: 6 GiB as bytes, 3 * 2^30 elements as floats; too large either way.
        long m = 3L << 30;
        Path f16 = sparse(dir.resolve("f16.safetensors"),
                "{\"h\":{\"dtype\":\"F16\",\"shape\":[3,1073741824],\"data_offsets\":[0," + 2 * m + "]}}", 2 * m, new byte[0]);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.readAsF32(f16));
        assertEquals(f16 + ": tensor \"h\" (F16, shape [3, 1073741824]) has 3221225472 elements, more than the 2147483639"
                + " one Java array can hold; checkprop keeps every tensor in one array", e.getMessage());
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f16));
        assertEquals(f16 + ": tensor \"h\" (F16, shape [3, 1073741824]) has 6442450944 bytes, more than the 2147483639"
                + " one Java byte array can hold", e.getMessage());

        // BF16 [2^30 + 1]: too large as bytes, fine as floats: the message says how to read it.
        long k = (1L << 30) + 1;
        Path bf16 = sparse(dir.resolve("bf16.safetensors"),
                "{\"b\":{\"dtype\":\"BF16\",\"shape\":[" + k + "],\"data_offsets\":[0," + 2 * k + "]}}", 2 * k, new byte[0]);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(bf16));
        assertTrue(e.getMessage().endsWith("(SafeTensors.readAsF32 reads it into a float array instead)"), e.getMessage());
    }
}
