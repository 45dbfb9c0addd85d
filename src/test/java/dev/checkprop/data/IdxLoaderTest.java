package dev.checkprop.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** IDX files are written here by hand, with DataOutputStream (which is big-endian, as IDX is). */
class IdxLoaderTest {

    @TempDir
    Path dir;

    /** A header: two zero bytes, the type code, the rank, then the dimensions. */
    private static DataOutputStream header(ByteArrayOutputStream bytes, int type, int... dims) throws IOException {
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeByte(0);
        out.writeByte(0);
        out.writeByte(type);
        out.writeByte(dims.length);
        for (int d : dims) {
            out.writeInt(d);
        }
        return out;
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    private Path ubyte(String name, int[] dims, int... values) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = header(bytes, 0x08, dims);
        for (int v : values) {
            out.writeByte(v);
        }
        return file(name, bytes.toByteArray());
    }

    private Path floats(String name, int[] dims, float... values) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = header(bytes, 0x0D, dims);
        for (float v : values) {
            out.writeFloat(v);
        }
        return file(name, bytes.toByteArray());
    }

    /** Three 2x2 images with pixels 0, 51, 255, ... and labels 1, 0, 2. */
    private Path images() throws IOException {
        return ubyte("images.idx", new int[] {3, 2, 2}, 0, 51, 102, 255, 1, 2, 3, 4, 255, 0, 0, 255);
    }

    private Path labels() throws IOException {
        return ubyte("labels.idx", new int[] {3}, 1, 0, 2);
    }

    private String error(Path images, Path labels, boolean scale) {
        return assertThrows(DataFormatException.class, () -> IdxLoader.loadImagesAndLabels(images, labels, scale)).getMessage();
    }

    @Test
    void ubyteImagesScaledAndUnscaled() throws IOException {
        Dataset d = IdxLoader.loadImagesAndLabels(images(), labels(), true);
        assertEquals(3, d.size());
        assertEquals(4, d.inputWidth(), "2x2 images flattened to rows of 4");
        assertEquals(3, d.classes());
        assertArrayEquals(new int[] {1, 0, 2}, d.toBatch().labels());
        assertEquals(0f, d.input(0, 0));
        assertEquals(0.2f, d.input(0, 1));
        assertEquals(1f, d.input(0, 3));
        assertEquals(1f / 255, d.input(1, 0));

        Dataset raw = IdxLoader.loadImagesAndLabels(images(), labels(), false);
        assertArrayEquals(new float[] {0, 51, 102, 255, 1, 2, 3, 4, 255, 0, 0, 255}, raw.toBatch().inputs());
    }

    @Test
    void otherElementTypes() throws IOException {
        Path f = floats("f.idx", new int[] {2, 3}, 0.5f, -1.25f, 3e7f, 0f, -0f, 1e-3f);
        ByteArrayOutputStream intLabels = new ByteArrayOutputStream();
        DataOutputStream out = header(intLabels, 0x0C, 2);
        // 0x00010001 read as two shorts would be 1, 1: the int reader must see 65537 and 65536.
        out.writeInt(65_537);
        out.writeInt(65_536);
        Path tooMany = file("int-labels.idx", intLabels.toByteArray());
        DataFormatException e = assertThrows(DataFormatException.class, () -> IdxLoader.loadImagesAndLabels(f, tooMany, false));
        assertEquals(tooMany + " offset 8 (sample 0): label 65537 would make 65538 classes, more than the 65536 supported;"
                + " labels must be 0..K-1", e.getMessage());
        intLabels = new ByteArrayOutputStream();
        out = header(intLabels, 0x0C, 2);
        out.writeInt(1);
        out.writeInt(0);
        Dataset d = IdxLoader.loadImagesAndLabels(f, file("int-labels.idx", intLabels.toByteArray()), false);
        assertArrayEquals(new float[] {0.5f, -1.25f, 3e7f, 0f, -0f, 1e-3f}, d.toBatch().inputs());
        assertArrayEquals(new int[] {1, 0}, d.toBatch().labels());
        assertEquals(2, d.classes());

        ByteArrayOutputStream mixed = new ByteArrayOutputStream();
        out = header(mixed, 0x0B, 2, 1, 2);
        out.writeShort(-300);
        out.writeShort(300);
        out.writeShort(1);
        out.writeShort(-1);
        ByteArrayOutputStream byteLabels = new ByteArrayOutputStream();
        out = header(byteLabels, 0x09, 2);
        out.writeByte(1);
        out.writeByte(0);
        d = IdxLoader.loadImagesAndLabels(file("short.idx", mixed.toByteArray()), file("byte-labels.idx", byteLabels.toByteArray()), false);
        assertArrayEquals(new float[] {-300, 300, 1, -1}, d.toBatch().inputs());
        assertArrayEquals(new int[] {1, 0}, d.toBatch().labels());

        ByteArrayOutputStream doubles = new ByteArrayOutputStream();
        out = header(doubles, 0x0E, 1, 2);
        out.writeDouble(0.1);
        out.writeDouble(-2);
        ByteArrayOutputStream signedImages = new ByteArrayOutputStream();
        out = header(signedImages, 0x09, 1, 2);
        out.writeByte(-128);
        out.writeByte(127);
        Path one = ubyte("one-label.idx", new int[] {1}, 0);
        assertArrayEquals(new float[] {0.1f, -2f}, IdxLoader.loadImagesAndLabels(file("d.idx", doubles.toByteArray()), one, false)
                .toBatch().inputs());
        assertArrayEquals(new float[] {-128, 127}, IdxLoader.loadImagesAndLabels(file("b.idx", signedImages.toByteArray()), one, false)
                .toBatch().inputs());
    }

    @Test
    void aLargeFileStreamsAcrossChunks() throws IOException {
        // 3 x 10007 floats: more than the 64 KiB read chunk, and not a multiple of it.
        int n = 3;
        int w = 10_007;
        float[] values = new float[n * w];
        for (int i = 0; i < values.length; i++) {
            values[i] = i * 0.5f;
        }
        Dataset d = IdxLoader.loadImagesAndLabels(floats("big.idx", new int[] {n, w}, values),
                ubyte("l.idx", new int[] {n}, 0, 1, 0), false);
        assertArrayEquals(values, d.toBatch().inputs());
    }

    @Test
    void magicAndTypeErrors() throws IOException {
        Path l = labels();
        Path tiny = file("tiny.idx", new byte[] {0, 0, 8});
        assertEquals(tiny + " offset 0: the file is 3 bytes, shorter than the 4-byte IDX magic number", error(tiny, l, false));
        Path gz = file("images.idx.gz", new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0});
        assertEquals(gz + " offset 0: an IDX file starts with two zero bytes, got 0x1f 0x8b (this is a gzip file: decompress it first)",
                error(gz, l, false));
        Path other = file("other.idx", new byte[] {0, 1, 8, 1, 0, 0, 0, 1, 0});
        assertEquals(other + " offset 0: an IDX file starts with two zero bytes, got 0x00 0x01", error(other, l, false));
        Path type = file("type.idx", new byte[] {0, 0, 7, 1, 0, 0, 0, 1, 0});
        assertEquals(type + " offset 2: unknown IDX type code 0x07 (expected 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, "
                + "0x0D float or 0x0E double)", error(type, l, false));
    }

    @Test
    void dimensionErrors() throws IOException {
        Path l = labels();
        Path rank0 = file("rank0.idx", new byte[] {0, 0, 8, 0});
        assertEquals(rank0 + " offset 3: the file declares 0 dimensions", error(rank0, l, false));
        Path shortHeader = file("short-header.idx", new byte[] {0, 0, 8, 3, 0, 0, 0, 1, 0, 0});
        assertEquals(shortHeader + " offset 4: the header declares 3 dimensions (12 bytes) but the file ends at offset 10",
                error(shortHeader, l, false));
        Path negative = file("neg.idx", new byte[] {0, 0, 8, 2, 0, 0, 0, 1, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
        assertEquals(negative + " offset 8: dimension 1 is 4294967295, above 2^31-1", error(negative, l, false));
        Path empty = ubyte("empty.idx", new int[] {0, 2});
        assertEquals(empty + " offset 4: dimension 0 is 0: the file holds no samples", error(empty, l, false));
        Path zeroWidth = ubyte("zero-width.idx", new int[] {3, 0});
        assertEquals(zeroWidth + " offset 8: dimension 1 is 0", error(zeroWidth, l, false));
        Path flat = ubyte("flat.idx", new int[] {3}, 1, 2, 3);
        assertEquals(flat + " offset 3: images need at least 2 dimensions [N, ...], the file declares 1", error(flat, l, false));
        Path labels2d = ubyte("labels2d.idx", new int[] {3, 1}, 1, 2, 3);
        assertEquals(labels2d + " offset 3: labels need 1 dimension [N], the file declares 2", error(images(), labels2d, false));
    }

    @Test
    void aHostileHeaderIsRejectedBeforeAllocating() throws IOException {
        Path l = labels();
        Path huge = ubyte("huge.idx", new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, 1, 2, 3);
        assertEquals(huge + " offset 16: the header declares [2147483647, 2147483647, 2147483647] ubyte values = more than 2^63"
                + " bytes of data, but the file has 3 bytes after the 16-byte header (truncated)", error(huge, l, false));
        Path mnistLike = ubyte("mnist.idx", new int[] {60_000, 28, 28}, new int[100]);
        assertEquals(mnistLike + " offset 16: the header declares [60000, 28, 28] ubyte values = 47040000 bytes of data, but the file"
                + " has 100 bytes after the 16-byte header (truncated)", error(mnistLike, l, false));
        Path doubles = file("doubles.idx", new byte[] {0, 0, 0x0E, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0});
        assertEquals(doubles + " offset 12: the header declares [1, 1] double values = 8 bytes of data, but the file"
                + " has 4 bytes after the 12-byte header (truncated)", error(doubles, l, false));
        Path trailing = ubyte("trailing.idx", new int[] {3, 1}, 1, 2, 3, 4);
        assertEquals(trailing + " offset 12: the header declares [3, 1] ubyte values = 3 bytes of data, but the file"
                + " has 4 bytes after the 12-byte header (trailing bytes)", error(trailing, l, false));
    }

    @Test
    void valueAndLabelErrors() throws IOException {
        Path l = ubyte("l.idx", new int[] {2}, 0, 1);
        Path nan = floats("nan.idx", new int[] {2, 3}, 0, 1, 2, 3, Float.NaN, 5);
        assertEquals(nan + " offset 28: value 4 (sample 1) is NaN: values must be finite", error(nan, l, false));
        ByteArrayOutputStream big = new ByteArrayOutputStream();
        header(big, 0x0E, 2, 1).writeDouble(1e300);
        new DataOutputStream(big).writeDouble(1);
        Path bigDoubles = file("big.idx", big.toByteArray());
        assertEquals(bigDoubles + " offset 12: value 0 (sample 0) is 1.0E300, beyond float range",
                error(bigDoubles, l, false));
        assertEquals(nan + " offset 2: scaling to [0, 1] applies to unsigned-byte images, the file holds float",
                error(nan, l, true));

        Path images = images();
        Path fewer = ubyte("fewer.idx", new int[] {2}, 0, 1);
        assertEquals(fewer + " has 2 labels but " + images + " has 3 images", error(images, fewer, false));
        ByteArrayOutputStream negative = new ByteArrayOutputStream();
        DataOutputStream out = header(negative, 0x09, 3);
        out.writeByte(0);
        out.writeByte(-2);
        out.writeByte(1);
        Path neg = file("neg-labels.idx", negative.toByteArray());
        assertEquals(neg + " offset 9: label -2 of sample 1 is negative", error(images, neg, false));
        Path floatLabels = floats("float-labels.idx", new int[] {3}, 0, 1, 2);
        assertEquals(floatLabels + " offset 2: labels need an integer type (ubyte, byte, short or int), the file holds float",
                error(images, floatLabels, false));
    }

    @Test
    void rowRangesAreTheSamplesOfTheWholeLoad() throws IOException {
        Path images = ubyte("img.idx", new int[] {5, 2, 2}, 0, 51, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17);
        Path labels = ubyte("lab.idx", new int[] {5}, 1, 0, 2, 2, 0);
        Dataset all = IdxLoader.loadImagesAndLabels(images, labels, true);
        IdxLoader.Pair pair;
        try (var i = java.nio.channels.FileChannel.open(images); var l = java.nio.channels.FileChannel.open(labels)) {
            pair = IdxLoader.check(i, images.toString(), l, labels.toString(), true);
        }
        assertEquals(5, pair.samples());
        assertEquals(4, pair.rowWidth());
        assertEquals(3, pair.classes());
        for (int from = 0; from < 5; from++) {
            for (int to = from + 1; to <= 5; to++) {
                // Through a channel that is not a FileChannel, as a Hadoop stream is.
                try (var ch = java.nio.file.Files.newByteChannel(images); var l = java.nio.file.Files.newByteChannel(labels)) {
                    Dataset part = IdxLoader.readRows(new Wrapped(ch), images.toString(), new Wrapped(l), labels.toString(), pair,
                            true, from, to);
                    assertArrayEquals(java.util.Arrays.copyOfRange(all.toBatch().inputs(), 4 * from, 4 * to), part.toBatch().inputs());
                    assertArrayEquals(java.util.Arrays.copyOfRange(all.toBatch().labels(), from, to), part.toBatch().labels());
                    assertEquals(3, part.classes());
                }
            }
        }
    }

    @Test
    void aBadValueInARangeHasTheMessageOfTheWholeLoad() throws IOException {
        Path images = floats("f.idx", new int[] {3, 2}, 1, 2, 3, Float.NaN, 5, 6);
        Path labels = ubyte("l.idx", new int[] {3}, 0, 1, 0);
        String whole = assertThrows(DataFormatException.class, () -> IdxLoader.loadImagesAndLabels(images, labels, false))
                .getMessage();
        IdxLoader.Pair pair;
        try (var i = java.nio.channels.FileChannel.open(images); var l = java.nio.channels.FileChannel.open(labels)) {
            pair = IdxLoader.check(i, images.toString(), l, labels.toString(), false);
        }
        try (var ch = java.nio.channels.FileChannel.open(images); var l = java.nio.channels.FileChannel.open(labels)) {
            assertEquals(whole, assertThrows(DataFormatException.class,
                    () -> IdxLoader.readRows(ch, images.toString(), l, labels.toString(), pair, false, 1, 3)).getMessage());
            assertEquals(1f, IdxLoader.readRows(ch, images.toString(), l, labels.toString(), pair, false, 0, 1).toBatch()
                    .inputs()[0]);
        }
    }

    /** A SeekableByteChannel that is not a FileChannel. */
    private record Wrapped(java.nio.channels.SeekableByteChannel ch) implements java.nio.channels.SeekableByteChannel {
        @Override
        public int read(java.nio.ByteBuffer dst) throws IOException {
            return ch.read(dst);
        }

        @Override
        public int write(java.nio.ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() throws IOException {
            return ch.position();
        }

        @Override
        public java.nio.channels.SeekableByteChannel position(long p) throws IOException {
            ch.position(p);
            return this;
        }

        @Override
        public long size() throws IOException {
            return ch.size();
        }

        @Override
        public java.nio.channels.SeekableByteChannel truncate(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
