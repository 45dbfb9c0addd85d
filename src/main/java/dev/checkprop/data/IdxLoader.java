package dev.checkprop.data;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Loads MNIST-style IDX files: the images file gives the inputs (each sample's dimensions
 * flattened to one row), the labels file the classes.
 *
 * <h2>Format</h2>
 * A 4-byte magic number: two zero bytes, a type code ({@code 0x08} unsigned byte, {@code 0x09}
 * signed byte, {@code 0x0B} short, {@code 0x0C} int, {@code 0x0D} float, {@code 0x0E} double) and
 * the number of dimensions d; then d big-endian int32 dimensions, the first being the number of
 * samples; then the elements, big-endian, in row-major order, and nothing after them.
 *
 * <h2>Validation</h2>
 * Everything the header declares is checked against the file's length <em>before</em> any array of
 * that size is allocated, so a hostile or corrupt header cannot make the loader allocate more than
 * the file could fill. Errors are {@link DataFormatException}s naming the file and the byte offset
 * of the problem: {@code train-images offset 2: unknown IDX type code 0x07 ...}. Images need at
 * least two dimensions, labels exactly one; float and double elements must be finite; labels must
 * have an integer type and be non-negative; the two files must hold the same number of samples.
 */
public final class IdxLoader {

    /** Bytes of the magic number, which the dimensions follow. */
    private static final int MAGIC_BYTES = 4;
    /** Largest array HotSpot reliably allocates. */
    private static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int CHUNK = 1 << 16;

    private IdxLoader() {
    }

    /**
     * Loads a classification dataset: x from {@code images} (N samples of any shape, flattened), the
     * labels from {@code labels}; K is one more than the largest label.
     *
     * @param scaleTo01 divide unsigned-byte pixels by 255, so inputs lie in [0, 1]; only allowed for
     *                  an unsigned-byte images file (other types are loaded as stored)
     * @throws DataFormatException naming the file and byte offset of the first problem, or if the
     *                             files disagree on the number of samples
     * @throws IOException         if a file cannot be read
     */
    public static Dataset loadImagesAndLabels(Path images, Path labels, boolean scaleTo01) throws IOException {
        // Both headers are checked before either data section is read, so a mismatch between the
        // files is reported without first reading a large images file.
        try (FileChannel imageChannel = FileChannel.open(images, StandardOpenOption.READ);
             FileChannel labelChannel = FileChannel.open(labels, StandardOpenOption.READ)) {
            final Pair pair = checkPair(imageChannel, images.toString(), labelChannel, labels.toString(), scaleTo01);
            final float[] x = readFloats(imageChannel, readHeader(imageChannel, images.toString()), scaleTo01, images.toString(),
                    0, pair.samples);
            final int[] y = readLabels(labelChannel, pair.labelLayout, labels.toString(), 0, pair.samples);
            return Dataset.adoptClassification(x, pair.rowWidth, y, pair.classes);
        } catch (DataFormatException | java.nio.file.NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            // "Is a directory", "Input/output error": which of the two files?
            throw new IOException(images + " / " + labels + ": cannot read: " + dev.checkprop.io.AtomicFiles.reason(e), e);
        }
    }

    /**
     * An images file and a labels file checked as {@link #loadImagesAndLabels} checks them, for
     * reading ranges of samples with {@link #readRows}.
     *
     * <p>{@code samples} is N, {@code rowWidth} the values of one sample (the product of the images'
     * dimensions after the first), {@code classes} K, one more than the largest label.
     */
    public static final class Pair implements java.io.Serializable {
        private static final long serialVersionUID = 1L;
        private final Layout imageLayout;
        private final Layout labelLayout;
        private final int samples;
        private final int rowWidth;
        private final int classes;

        Pair(Layout imageLayout, Layout labelLayout, int samples, int rowWidth, int classes) {
            this.imageLayout = imageLayout;
            this.labelLayout = labelLayout;
            this.samples = samples;
            this.rowWidth = rowWidth;
            this.classes = classes;
        }

        /** Answers N. */
        public int samples() {
            return samples;
        }

        /** Answers the values of one sample. */
        public int rowWidth() {
            return rowWidth;
        }

        /** Answers K. */
        public int classes() {
            return classes;
        }

    }

    /**
     * Checks an images file and a labels file as {@link #loadImagesAndLabels} does (both headers,
     * their agreement, and every label, read whole), reading of the images file only its header:
     * the same problems give the same messages, and a pair it accepts gives the same samples to
     * {@link #readRows}.
     *
     * @param images a channel over the images file (only its header is read)
     * @param labels a channel over the labels file (read whole)
     * @throws DataFormatException naming the file and offset of the first problem
     * @throws IOException         if a channel fails
     */
    public static Pair check(SeekableByteChannel images, String imagesName, SeekableByteChannel labels, String labelsName,
                             boolean scaleTo01) throws IOException {
        return checkPair(images, imagesName, labels, labelsName, scaleTo01);
    }

    private static Pair checkPair(SeekableByteChannel imageChannel, String images, SeekableByteChannel labelChannel,
                                  String labels, boolean scaleTo01) throws IOException {
        final Layout imageLayout = readHeader(imageChannel, images);
        if (imageLayout.dims.length < 2) {
            throw new DataFormatException(images + " offset 3: images need at least 2 dimensions [N, ...], the file declares "
                    + imageLayout.dims.length);
        }
        if (scaleTo01 && imageLayout.type != Type.UBYTE) {
            throw new DataFormatException(images + " offset 2: scaling to [0, 1] applies to unsigned-byte images, the file holds "
                    + imageLayout.type.label);
        }
        final Layout labelLayout = readHeader(labelChannel, labels);
        if (labelLayout.dims.length != 1) {
            throw new DataFormatException(labels + " offset 3: labels need 1 dimension [N], the file declares "
                    + labelLayout.dims.length);
        }
        if (labelLayout.type.isFloating()) {
            throw new DataFormatException(labels + " offset 2: labels need an integer type (ubyte, byte, short or int), the file holds "
                    + labelLayout.type.label);
        }
        if (labelLayout.dims[0] != imageLayout.dims[0]) {
            throw new DataFormatException(labels + " has " + labelLayout.dims[0] + " labels but " + images + " has "
                    + imageLayout.dims[0] + " images");
        }
        final int rowWidth = (int) (imageLayout.elements / imageLayout.dims[0]);
        // Before either array exists: every image element becomes a 4-byte float, every label an int.
        dev.checkprop.memory.Preflight.heap(images + " and " + labels + ": " + imageLayout.elements + " values as floats and "
                + labelLayout.elements + " labels", 4.0 * imageLayout.elements + 4.0 * labelLayout.elements,
                "give a larger -Xmx");
        final int[] y = readLabels(labelChannel, labelLayout, labels, 0, labelLayout.dims[0]);
        int classes = Dataset.inferClasses(y);
        Dataset.checkInferredClasses(y, classes, i -> labels + " offset " + (labelLayout.dataOffset
                + (long) i * labelLayout.type.bytes) + " (sample " + i + ")");
        return new Pair(imageLayout, labelLayout, imageLayout.dims[0], rowWidth, classes);
    }

    /**
     * Reads samples {@code from .. to-1} of a pair {@link #check} accepted: their images, converted
     * as {@link #loadImagesAndLabels} converts them (messages name the same offsets and samples),
     * their labels, and K of {@code pair}. Reads the images file's header and those samples' bytes
     * of both files only.
     *
     * @param images a channel over the same images file
     * @param labels a channel over the same labels file
     * @throws DataFormatException naming the offset and sample of a non-finite value, or if the
     *                             file no longer has the header {@link #check} read
     * @throws IOException         if the channel fails
     */
    public static Dataset readRows(SeekableByteChannel images, String imagesName, SeekableByteChannel labels, String labelsName,
                                   Pair pair, boolean scaleTo01, int from, int to) throws IOException {
        java.util.Objects.checkFromToIndex(from, to, pair.samples);
        final Layout layout = readHeader(images, imagesName);
        if (!pair.imageLayout.equalsLayout(layout)) {
            throw new DataFormatException(imagesName + " offset 0: the header changed since the file was checked");
        }
        final float[] x = readFloats(images, layout, scaleTo01, imagesName, from, to);
        if (!readHeader(labels, labelsName).equalsLayout(pair.labelLayout)) {
            throw new DataFormatException(labelsName + " offset 0: the header changed since the file was checked");
        }
        final int[] y = readLabels(labels, pair.labelLayout, labelsName, from, to);
        for (int i = 0; i < y.length; i++) {
            if (y[i] >= pair.classes) {
                throw new DataFormatException(labelsName + " offset " + (pair.labelLayout.dataOffset + (long) (from + i)
                        * pair.labelLayout.type.bytes) + ": label " + y[i] + " of sample " + (from + i)
                        + " is out of range 0.." + (pair.classes - 1) + " (the file changed since it was checked)");
            }
        }
        return Dataset.adoptClassification(x, pair.rowWidth, y, pair.classes);
    }

    /** IDX element types, by type code. */
    enum Type {
        UBYTE(0x08, 1, "ubyte"),
        BYTE(0x09, 1, "byte"),
        SHORT(0x0B, 2, "short"),
        INT(0x0C, 4, "int"),
        FLOAT(0x0D, 4, "float"),
        DOUBLE(0x0E, 8, "double");

        final int code;
        final int bytes;
        final String label;

        Type(int code, int bytes, String label) {
            this.code = code;
            this.bytes = bytes;
            this.label = label;
        }

        boolean isFloating() {
            return this == FLOAT || this == DOUBLE;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }
    }

    /** A validated header: the data fills the file exactly from {@code dataOffset}. */
    record Layout(Type type, int[] dims, long elements, long dataOffset) implements java.io.Serializable {

        /** Whether {@code o} declares the same type, dimensions and data offset (a record's equals compares arrays by identity). */
        boolean equalsLayout(Layout o) {
            return o.type == type && Arrays.equals(o.dims, dims) && o.dataOffset == dataOffset;
        }
    }

    /** Reads and checks the header against the file's length, allocating nothing of a declared size. */
    static Layout readHeader(SeekableByteChannel ch, String source) throws IOException {
        final long size = ch.size();
        if (size < MAGIC_BYTES) {
            throw new DataFormatException(source + " offset 0: the file is " + size
                    + " bytes, shorter than the 4-byte IDX magic number");
        }
        final ByteBuffer magic = readAt(ch, 0, MAGIC_BYTES, source);
        final int b0 = magic.get(0) & 0xFF;
        final int b1 = magic.get(1) & 0xFF;
        if (b0 != 0 || b1 != 0) {
            throw new DataFormatException(String.format("%s offset 0: an IDX file starts with two zero bytes, got 0x%02x 0x%02x%s",
                    source, b0, b1, b0 == 0x1f && b1 == 0x8b ? " (this is a gzip file: decompress it first)" : ""));
        }
        final int code = magic.get(2) & 0xFF;
        final Type type = Type.of(code);
        if (type == null) {
            throw new DataFormatException(String.format("%s offset 2: unknown IDX type code 0x%02x (expected 0x08 ubyte, 0x09 byte, "
                    + "0x0B short, 0x0C int, 0x0D float or 0x0E double)", source, code));
        }
        final int rank = magic.get(3) & 0xFF;
        if (rank == 0) {
            throw new DataFormatException(source + " offset 3: the file declares 0 dimensions");
        }
        final long dataOffset = MAGIC_BYTES + 4L * rank;
        if (size < dataOffset) {
            throw new DataFormatException(source + " offset " + MAGIC_BYTES + ": the header declares " + rank + " dimensions ("
                    + 4 * rank + " bytes) but the file ends at offset " + size);
        }
        final ByteBuffer dimBytes = readAt(ch, MAGIC_BYTES, 4 * rank, source);
        final int[] dims = new int[rank];
        // Saturates instead of overflowing: any product past the file's length is rejected anyway.
        long elements = 1;
        for (int k = 0; k < rank; k++) {
            final long offset = MAGIC_BYTES + 4L * k;
            final int d = dimBytes.getInt(4 * k);
            if (d < 0) {
                throw new DataFormatException(source + " offset " + offset + ": dimension " + k + " is "
                        + Integer.toUnsignedString(d) + ", above 2^31-1");
            }
            if (d == 0) {
                throw new DataFormatException(source + " offset " + offset + ": dimension " + k + " is 0"
                        + (k == 0 ? ": the file holds no samples" : ""));
            }
            dims[k] = d;
            elements = elements > Long.MAX_VALUE / d ? Long.MAX_VALUE : elements * d;
        }
        final long available = size - dataOffset;
        final long declared = elements > Long.MAX_VALUE / type.bytes ? Long.MAX_VALUE : elements * type.bytes;
        if (declared != available) {
            throw new DataFormatException(source + " offset " + dataOffset + ": the header declares " + Arrays.toString(dims)
                    + " " + type.label + " values = " + (declared == Long.MAX_VALUE ? "more than 2^63" : Long.toString(declared))
                    + " bytes of data, but the file has " + available + " bytes after the " + dataOffset + "-byte header"
                    + (declared < available ? " (trailing bytes)" : " (truncated)"));
        }
        if (elements > MAX_ELEMENTS) {
            throw new DataFormatException(source + " offset " + MAGIC_BYTES + ": " + Arrays.toString(dims) + " holds " + elements
                    + " values, more than a Java array can");
        }
        return new Layout(type, dims, elements, dataOffset);
    }

    /** Reads the elements as floats, checking float and double elements are finite. */
    static float[] readFloats(SeekableByteChannel ch, Layout layout, boolean scaleTo01, String source, int fromSample,
                              int toSample) throws IOException {
        final long perSample = layout.elements / layout.dims[0];
        final long first = fromSample * perSample;
        final float[] out = new float[Math.toIntExact((toSample - fromSample) * perSample)];
        final Type type = layout.type;
        final ElementReader reader = new ElementReader(ch, layout, source, first);
        for (int k = 0; k < out.length; k++) {
            final long i = first + k;
            final ByteBuffer b = reader.next();
            final float v;
            switch (type) {
                case UBYTE -> {
                    final int u = b.get() & 0xFF;
                    v = scaleTo01 ? u / 255f : u;
                }
                case BYTE -> v = b.get();
                case SHORT -> v = b.getShort();
                case INT -> v = b.getInt();
                case FLOAT -> v = b.getFloat();
                default -> {
                    final double d = b.getDouble();
                    v = (float) d;
                    if (!Float.isFinite(v)) {
                        throw badValue(source, layout, i, d + (Double.isFinite(d) ? ", beyond float range" : ": values must be finite"));
                    }
                }
            }
            if (!Float.isFinite(v)) {
                throw badValue(source, layout, i, v + ": values must be finite");
            }
            out[k] = v;
        }
        return out;
    }

    private static DataFormatException badValue(String source, Layout layout, long i, String problem) {
        final long perSample = layout.elements / layout.dims[0];
        return new DataFormatException(source + " offset " + (layout.dataOffset + i * layout.type.bytes) + ": value "
                + i + " (sample " + i / perSample + ") is " + problem);
    }

    /** Reads integer labels, checking they are non-negative. */
    static int[] readLabels(SeekableByteChannel ch, Layout layout, String source, int from, int to) throws IOException {
        final int[] out = new int[to - from];
        final ElementReader reader = new ElementReader(ch, layout, source, from);
        for (int k = 0; k < out.length; k++) {
            final long i = from + k;
            final ByteBuffer b = reader.next();
            final int v = switch (layout.type) {
                case UBYTE -> b.get() & 0xFF;
                case BYTE -> b.get();
                case SHORT -> b.getShort();
                default -> b.getInt();
            };
            if (v < 0 || v == Integer.MAX_VALUE) {
                throw new DataFormatException(source + " offset " + (layout.dataOffset + i * layout.type.bytes)
                        + ": label " + v + " of sample " + i + (v < 0 ? " is negative" : " is too large"));
            }
            out[k] = v;
        }
        return out;
    }

    private static ByteBuffer readAt(SeekableByteChannel ch, long position, int length, String source) throws IOException {
        final ByteBuffer b = ByteBuffer.allocate(length).order(ByteOrder.BIG_ENDIAN);
        while (b.hasRemaining()) {
            if (read(ch, b, position + b.position()) < 0) {
                throw truncatedWhileReading(source, position + b.position());
            }
        }
        return b.flip();
    }

    /** A positional read: a file channel's own, else position then read. */
    private static int read(SeekableByteChannel ch, ByteBuffer dst, long position) throws IOException {
        if (ch instanceof FileChannel f) {
            return f.read(dst, position);
        }
        ch.position(position);
        return ch.read(dst);
    }

    private static DataFormatException truncatedWhileReading(String source, long offset) {
        return new DataFormatException(source + " offset " + offset + ": the file ended while being read; was it truncated meanwhile?");
    }

    /**
     * Streams the data section in fixed chunks, so that only the output array is as large as the
     * data; {@link #next} answers a buffer positioned at the next element.
     */
    private static final class ElementReader {
        private final SeekableByteChannel ch;
        private final int bytes;
        private final String source;
        private final ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.BIG_ENDIAN);
        private long position;

        ElementReader(SeekableByteChannel ch, Layout layout, String source, long firstElement) {
            this.ch = ch;
            this.bytes = layout.type.bytes;
            this.source = source;
            this.position = layout.dataOffset + firstElement * bytes;
            buf.limit(0);
        }

        ByteBuffer next() throws IOException {
            if (buf.remaining() < bytes) {
                buf.compact();
                while (buf.position() < bytes) {
                    final int n = read(ch, buf, position);
                    if (n < 0) {
                        throw truncatedWhileReading(source, position);
                    }
                    position += n;
                }
                buf.flip();
            }
            return buf;
        }
    }
}
