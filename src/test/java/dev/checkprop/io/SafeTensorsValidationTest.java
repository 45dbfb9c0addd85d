package dev.checkprop.io;

import static dev.checkprop.io.Bytes.concat;
import static dev.checkprop.io.Bytes.f32;
import static dev.checkprop.io.Bytes.file;
import static dev.checkprop.io.Bytes.le64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsValidationTest {

    private static final String SOURCE = "bad.safetensors";

    /** Bytes that keep a mutated header looking like JSON, so mutations reach deeper checks. */
    private static final String JSON_BYTES = "{}[]\",:0123456789-.e \\u";

    /** Asserts rejection with a message that starts with the file name and contains every fragment. */
    private static SafeTensorsException rejects(byte[] bytes, String... fragments) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(bytes, SOURCE));
        assertTrue(e.getMessage().startsWith(SOURCE + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), () -> "'" + f + "' missing from: " + e.getMessage());
        }
        return e;
    }

    private static SafeTensorsException rejectsHeader(String header, byte[] data, String... fragments) {
        return rejects(file(header, data), fragments);
    }

    private static String tensor(String name, String dtype, String shape, String offsets) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void rejectsFilesTooShortForTheLengthPrefix() {
        rejects(new byte[0], "0 bytes", "offset 0");
        rejects(new byte[7], "7 bytes", "offset 0");
    }

    @Test
    void rejectsHugeHeaderLengthsWithoutAllocatingThem() {
        rejects(concat(le64(1L << 62), "{}".getBytes(StandardCharsets.US_ASCII)), "header length 4611686018427387904",
                "exceeds");
        rejects(le64(-1), "header length 18446744073709551615", "exceeds");
        rejects(concat(le64(SafeTensors.MAX_HEADER_BYTES + 1L), new byte[16]), "header length 100000001", "exceeds");
    }

    @Test
    void rejectsHeaderLengthsPastTheEndOfTheFile() {
        byte[] valid = file("{}", new byte[0]);
        byte[] tooLong = valid.clone();
        System.arraycopy(le64(valid.length + 1L), 0, tooLong, 0, 8);
        rejects(tooLong, "header length 11", "10-byte file");
        System.arraycopy(le64(valid.length - 7L), 0, tooLong, 0, 8);
        rejects(tooLong, "header length 3", "runs past the end");
    }

    @Test
    void rejectsBadHeaderLengthsFromAPathUsingTheFileSize(@TempDir Path dir) throws IOException {
        Path path = dir.resolve("hostile.safetensors");
        Files.write(path, concat(le64(1L << 62), new byte[8]));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path));
        assertTrue(e.getMessage().startsWith(path + ": header length 4611686018427387904"), e.getMessage());

        Files.write(path, concat(le64(17), "{}".getBytes(StandardCharsets.US_ASCII)));
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path));
        assertTrue(e.getMessage().contains("10-byte file"), e.getMessage());

        Files.write(path, new byte[5]);
        e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path));
        assertTrue(e.getMessage().startsWith(path + ": file is 5 bytes"), e.getMessage());

        assertThrows(NoSuchFileException.class, () -> SafeTensors.read(dir.resolve("absent")));
    }

    @Test
    void filesOfTwoGibibytesOrMoreAreValidatedLikeAnyOther(@TempDir Path dir) throws IOException {
        // No size limit on files any more (LargeFileTest reads one): a 2 GiB file with an empty header
        // is refused for its unclaimed bytes, as a small one is, not for its size.
        Path path = dir.resolve("huge.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(path.toFile(), "rw")) {
            f.write(file("{}", new byte[0]));
            f.setLength(SafeTensors.MAX_FILE_BYTES + 1); // sparse: no disk is used
        }
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(path));
        assertTrue(e.getMessage().startsWith(path + ": data section has 2147483638 bytes but there are no tensors"),
                e.getMessage());
    }

    @Test
    void rejectsHeadersThatAreNotUtf8JsonObjects() {
        byte[] badUtf8 = file("{\"x\":1}", new byte[0]);
        badUtf8[10] = (byte) 0xff; // the 'x', at file offset 10
        rejects(badUtf8, "not valid UTF-8", "file offset 10");
        rejectsHeader("[]", new byte[0], "not a JSON object", "file offset 8");
        rejectsHeader("\"x\"", new byte[0], "not a JSON object");
        rejectsHeader(" {}", new byte[0], "not a JSON object");
        rejectsHeader("", new byte[0], "not a JSON object");
        rejectsHeader("{", new byte[0], "end of header");
        rejectsHeader("{\"a\":}", new byte[0], "file offset 13");
        rejectsHeader("{\"a\" 1}", new byte[0], "expected ':'");
        rejectsHeader("{\"__metadata__\":{\"a\":\"b\",}}", new byte[0], "expected a string for a key", "file offset 33");
        rejectsHeader("{'a':1}", new byte[0], "expected a string");
        rejectsHeader("{} x", new byte[0], "unexpected 'x' after the header object", "file offset 11");
        rejectsHeader("{}\0\0", new byte[0], "byte 0x00 after the header object");
        rejectsHeader("{}{}", new byte[0], "after the header object");
    }

    @Test
    void rejectsMalformedStrings() {
        rejectsHeader("{\"__metadata__\":{\"a\":\"x\\qy\"}}", new byte[0], "invalid escape '\\q'");
        rejectsHeader("{\"__metadata__\":{\"a\":\"\\ud800\"}}", new byte[0], "unpaired surrogate");
        rejectsHeader("{\"__metadata__\":{\"a\":\"\\udc00x\"}}", new byte[0], "unpaired surrogate");
        rejectsHeader("{\"__metadata__\":{\"a\":\"\\ud800\\u0041\"}}", new byte[0], "unpaired surrogate");
        rejectsHeader("{\"__metadata__\":{\"a\":\"\\u12G4\"}}", new byte[0], "invalid \\u escape");
        rejectsHeader("{\"__metadata__\":{\"a\":\"\\u12\"}}", new byte[0], "escape");
        rejectsHeader("{\"__metadata__\":{\"a\":\"tab\there\"}}", new byte[0], "unescaped control character 0x09");
        rejectsHeader("{\"__metadata__\":{\"a\":\"open", new byte[0], "unterminated string");
    }

    @Test
    void rejectsUnknownDtypes() {
        for (String dtype : new String[] {"U16", "F8_E4M3", "f32", "", "F32 "}) {
            rejectsHeader("{" + tensor("w", dtype, "[0]", "[0,0]") + "}", new byte[0],
                    "tensor \"w\"", "dtype \"" + dtype + "\"");
        }
        rejectsHeader("{\"w\":{\"dtype\":4,\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[0], "the dtype of tensor \"w\"");
    }

    @Test
    void rejectsBadShapes() {
        rejectsHeader("{" + tensor("w", "F32", "[-1]", "[0,0]") + "}", new byte[0], "shape of tensor \"w\"[0]", "-1");
        rejectsHeader("{" + tensor("w", "F32", "[1,2.0]", "[0,8]") + "}", f32(1, 2), "shape of tensor \"w\"[1]", "2.0");
        rejectsHeader("{" + tensor("w", "F32", "[1e0]", "[0,4]") + "}", f32(1), "shape of tensor \"w\"[0]", "1e0");
        rejectsHeader("{" + tensor("w", "F32", "[\"2\"]", "[0,8]") + "}", f32(1, 2), "shape of tensor \"w\"");
        rejectsHeader("{" + tensor("w", "F32", "2", "[0,8]") + "}", f32(1, 2), "expected an array for the shape of tensor \"w\"");
        rejectsHeader("{" + tensor("w", "F32", "[9007199254740993]", "[0,0]") + "}", new byte[0],
                "tensor \"w\"", "9007199254740993", "2^53");
        rejectsHeader("{" + tensor("w", "F32", "[0,2147483648]", "[0,0]") + "}", new byte[0],
                "tensor \"w\"", "2147483648", "2^31-1");
        String deep = "[" + "1,".repeat(Header.MAX_RANK) + "1]";
        rejectsHeader("{" + tensor("w", "F32", deep, "[0,4]") + "}", f32(1), "shape of tensor \"w\" has more than 1024");
    }

    @Test
    void rejectsElementCountOverflow() {
        rejectsHeader("{" + tensor("w", "F32", "[2147483647,2147483647,2147483647]", "[0,4]") + "}", f32(1),
                "tensor \"w\"", "overflows");
        // The count fits a long but its byte size does not.
        rejectsHeader("{" + tensor("w", "F64", "[2147483647,2147483647,2]", "[0,8]") + "}", new byte[8],
                "tensor \"w\"", "overflows");
    }

    @Test
    void rejectsBadDataOffsets() {
        rejectsHeader("{" + tensor("w", "F32", "[1]", "[0]") + "}", f32(1), "data_offsets of tensor \"w\"", "two integers");
        rejectsHeader("{" + tensor("w", "F32", "[1]", "[0,4,8]") + "}", f32(1), "data_offsets of tensor \"w\"", "more than 2");
        rejectsHeader("{" + tensor("w", "F32", "[1]", "[0,\"4\"]") + "}", f32(1), "data_offsets of tensor \"w\"[1]");
        rejectsHeader("{" + tensor("w", "F32", "[1]", "{}") + "}", f32(1), "data_offsets of tensor \"w\"");
        rejectsHeader("{" + tensor("w", "F32", "[1]", "[0,-4]") + "}", f32(1), "data_offsets of tensor \"w\"[1]", "-4");
        rejectsHeader("{" + tensor("w", "F32", "[0]", "[8,4]") + "}", new byte[8], "tensor \"w\" (data_offsets [8, 4])",
                "begins after it ends");
        rejectsHeader("{" + tensor("w", "F32", "[2]", "[0,8]") + "}", f32(1), "tensor \"w\" (data_offsets [0, 8])",
                "beyond the data section of 4 bytes");
        rejectsHeader("{" + tensor("w", "F32", "[2]", "[0,4]") + "}", f32(1), "tensor \"w\" (data_offsets [0, 4])",
                "spans 4 bytes", "needs 8");
    }

    @Test
    void rejectsOverlapsGapsAndTrailingBytes() {
        rejectsHeader("{" + tensor("a", "F32", "[4]", "[0,16]") + "," + tensor("b", "F32", "[4]", "[8,24]") + "}",
                new byte[24], "tensor \"b\" data_offsets [8, 24] overlap tensor \"a\" data_offsets [0, 16]");
        rejectsHeader("{" + tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[2]", "[0,8]") + "}",
                new byte[8], "overlap");
        // A zero-length tensor may sit at a boundary but not inside another tensor.
        rejectsHeader("{" + tensor("a", "F32", "[4]", "[0,16]") + "," + tensor("z", "F32", "[0]", "[8,8]") + "}",
                new byte[16], "tensor \"z\" data_offsets [8, 8] overlap tensor \"a\"");
        rejectsHeader("{" + tensor("a", "F32", "[2]", "[0,8]") + "," + tensor("b", "F32", "[2]", "[16,24]") + "}",
                new byte[24], "bytes [8, 16) before tensor \"b\"");
        rejectsHeader("{" + tensor("a", "F32", "[2]", "[8,16]") + "}", new byte[16], "bytes [0, 8) before tensor \"a\"");
        rejectsHeader("{" + tensor("a", "F32", "[2]", "[0,8]") + "}", new byte[12],
                "the last tensor, \"a\", ends at data offset 8", "bytes [8, 12)");
        rejectsHeader("{}", new byte[3], "there are no tensors", "bytes [0, 3)");
    }

    @Test
    void acceptsZeroLengthTensorsAtBoundaries() throws Exception {
        SafeTensors st = SafeTensors.read(file("{" + tensor("z0", "F32", "[0]", "[0,0]") + "," + tensor("a", "F32", "[1]", "[0,4]")
                + "," + tensor("z4", "I64", "[0,5]", "[4,4]") + "}", f32(2)), SOURCE);
        assertEquals(3, st.names().size());
        assertArrayEquals(new float[] {2}, st.tensor("a").toFloatArray());
    }

    @Test
    void rejectsDuplicateAndMissingKeys() {
        rejectsHeader("{" + tensor("w", "F32", "[1]", "[0,4]") + "," + tensor("w", "F32", "[1]", "[4,8]") + "}", new byte[8],
                "duplicate key \"w\" in the header");
        rejectsHeader("{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[0],
                "duplicate key \"dtype\" in tensor \"w\"");
        rejectsHeader("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,0]}}", new byte[0], "tensor \"w\" has no \"shape\"");
        rejectsHeader("{\"w\":{\"shape\":[0],\"data_offsets\":[0,0]}}", new byte[0], "tensor \"w\" has no \"dtype\"");
        rejectsHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[0]}}", new byte[0], "tensor \"w\" has no \"data_offsets\"");
        rejectsHeader("{\"w\":[]}", new byte[0], "expected an object for tensor \"w\"");
        rejectsHeader("{\"__metadata__\":{},\"__metadata__\":{}}", new byte[0], "duplicate key \"__metadata__\"");
    }

    @Test
    void rejectsMetadataThatIsNotAnObjectOfStrings() {
        rejectsHeader("{\"__metadata__\":\"pt\"}", new byte[0], "expected an object for __metadata__");
        rejectsHeader("{\"__metadata__\":null}", new byte[0], "expected an object for __metadata__");
        rejectsHeader("{\"__metadata__\":[\"a\"]}", new byte[0], "expected an object for __metadata__");
        rejectsHeader("{\"__metadata__\":{\"epoch\":3}}", new byte[0], "__metadata__ entry \"epoch\"");
        rejectsHeader("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", new byte[0], "__metadata__ entry \"a\"");
        rejectsHeader("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", new byte[0], "duplicate key \"a\" in __metadata__");
    }

    @Test
    void rejectsDeepNestingWithoutOverflowingTheStack() {
        String arrays = "{\"w\":{\"x\":" + "[".repeat(10_000) + "]".repeat(10_000)
                + ",\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}";
        rejectsHeader(arrays, new byte[0], "nested deeper than 64");
        rejectsHeader("{\"w\":" + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_001), new byte[0], "nested deeper than 64");
        rejectsHeader("{\"__metadata__\":" + "[".repeat(10_000), new byte[0]);
    }

    @Test
    void rejectsEveryTruncation() throws Exception {
        byte[] valid = SafeTensors.builder()
                .putF32("w", new long[] {2, 2}, new float[] {1, 2, 3, 4})
                .putI64("y", new long[] {2}, new long[] {0, 1})
                .metadata("format", "pt")
                .build().toBytes();
        SafeTensors.read(valid, SOURCE);
        // Every tensor covers the data section exactly, so any cut at all must be detected.
        for (int cut = 0; cut < valid.length; cut++) {
            rejects(Arrays.copyOf(valid, cut));
        }
    }

    @Test
    void randomMutationsEitherParseOrThrowSafeTensorsException() {
        byte[] valid = SafeTensors.builder()
                .putF32("weights", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6})
                .putI32("labels", new long[] {3}, new int[] {0, 1, 2})
                .putI64("ids", new long[] {1}, new long[] {9})
                .metadata("format", "pt")
                .build().toBytes();
        SplittableRandom random = new SplittableRandom(20240611L);
        int parsed = 0;
        int rejected = 0;
        for (int trial = 0; trial < 600; trial++) {
            byte[] mutated = mutate(valid, random);
            try {
                SafeTensors st = SafeTensors.read(mutated, "mutant-" + trial);
                // Whatever we accept must survive our own writer and reader unchanged.
                assertEquals(st, SafeTensors.read(st.toBytes(), "rewritten-" + trial));
                parsed++;
            } catch (SafeTensorsException e) {
                assertTrue(e.getMessage().startsWith("mutant-" + trial + ": "), e.getMessage());
                rejected++;
            } catch (RuntimeException | Error e) {
                fail("trial " + trial + " threw " + e, e);
            }
        }
        // Both outcomes must be exercised for the test to mean anything.
        assertTrue(parsed > 20 && rejected > 100, "parsed " + parsed + ", rejected " + rejected);
    }

    private static byte[] mutate(byte[] valid, SplittableRandom random) {
        byte[] out = valid.clone();
        int edits = 1 + random.nextInt(3);
        for (int i = 0; i < edits; i++) {
            int at = random.nextInt(out.length);
            switch (random.nextInt(4)) {
                case 0 -> out[at] ^= (byte) (1 << random.nextInt(8));
                case 1 -> out[at] = (byte) random.nextInt(256);
                case 2 -> out[at] = (byte) JSON_BYTES.charAt(random.nextInt(JSON_BYTES.length()));
                default -> {
                    // Drop one byte: shifts everything after it.
                    byte[] shorter = new byte[out.length - 1];
                    System.arraycopy(out, 0, shorter, 0, at);
                    System.arraycopy(out, at + 1, shorter, at, out.length - at - 1);
                    out = shorter;
                }
            }
        }
        return out;
    }
}
