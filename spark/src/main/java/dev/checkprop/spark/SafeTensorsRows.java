package dev.checkprop.spark;

import dev.checkprop.io.DType;
import dev.checkprop.io.FloatFormats;
import dev.checkprop.io.SafeTensorsException;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A row range of a data file in the layout of {@code ModelFile.loadData} ({@code x} {@code [N, n0]}
 * and {@code y} {@code [N, nOut]} in F32, or F16, BF16 or F64 converted to F32 as
 * {@code SafeTensors.readAsF32} converts them, with {@link FloatFormats#decode}; or {@code labels}
 * I32/I64 {@code [N]}), read through Hadoop's {@link FileSystem} (local files, HDFS, S3, ...): the
 * header, then only the bytes of the rows asked for (the rows have a fixed size, so their offset is
 * known). The same checks as the library's reader apply to what is read (shapes, dtypes, spans
 * inside the file, finite values, labels in int range and non-negative), and every message names
 * the file and the rows.
 */
final class SafeTensorsRows implements ShardData {

    private static final long serialVersionUID = 1L;

    /** One tensor's header entry. */
    record Entry(String dtype, long[] shape, long begin, long end) implements java.io.Serializable {
    }

    final String source;
    final long fileBytes;
    final long dataStart;
    final Map<String, Entry> entries;

    private SafeTensorsRows(String source, long fileBytes, long dataStart, Map<String, Entry> entries) {
        this.source = source;
        this.fileBytes = fileBytes;
        this.dataStart = dataStart;
        this.entries = entries;
    }

    static FileSystem fs(String path) throws IOException {
        return new Path(path).getFileSystem(new Configuration());
    }

    /** Reads and checks the header of {@code path}. */
    static SafeTensorsRows open(String path) throws IOException {
        FileSystem fs = fs(path);
        Path p = new Path(path);
        long size = fs.getFileStatus(p).getLen();
        if (size < 8) {
            throw new SafeTensorsException(path + ": file is " + size + " bytes, shorter than the 8-byte header length");
        }
        try (FSDataInputStream in = fs.open(p)) {
            byte[] prefix = new byte[8];
            in.readFully(0, prefix);
            long n = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 2 || n > Math.min(100_000_000L, size - 8)) {
                throw new SafeTensorsException(path + ": header length " + Long.toUnsignedString(n)
                        + " does not fit the " + size + "-byte file");
            }
            byte[] header = new byte[(int) n];
            in.readFully(8, header);
            Map<String, Entry> entries = new Parser(new String(header, StandardCharsets.UTF_8), path).entries();
            long dataBytes = size - 8 - n;
            for (Map.Entry<String, Entry> e : entries.entrySet()) {
                Entry t = e.getValue();
                if (t.begin < 0 || t.end < t.begin || t.end > dataBytes) {
                    throw new SafeTensorsException(path + ": tensor " + e.getKey() + " spans bytes " + t.begin + ".." + t.end
                            + " of a " + dataBytes + "-byte data section");
                }
                long elements = 1;
                for (long d : t.shape) {
                    elements = Math.multiplyExact(elements, d);
                }
                if (Math.multiplyExact(elements, width(t.dtype)) != t.end - t.begin) {
                    throw new SafeTensorsException(path + ": tensor " + e.getKey() + " has " + (t.end - t.begin)
                            + " bytes, not what shape " + java.util.Arrays.toString(t.shape) + " of " + t.dtype + " needs");
                }
            }
            return new SafeTensorsRows(path, size, 8 + n, entries);
        }
    }

    private static int width(String dtype) {
        return switch (dtype) {
            case "F64", "I64", "U64" -> 8;
            case "F32", "I32", "U32" -> 4;
            case "F16", "BF16", "I16", "U16" -> 2;
            default -> 1;
        };
    }

    @Override
    public String name() {
        return source;
    }

    @Override
    public int rows() {
        return Math.toIntExact(entries.get("x").shape[0]);
    }

    @Override
    public Batch read(int from, int to, Loss loss, String where) throws IOException {
        try {
            return readRows(from, to, loss, where);
        } catch (IOException e) {
            throw e.getMessage() != null && e.getMessage().startsWith(where) ? e
                    : new SafeTensorsException(where + ": " + e.getMessage());
        }
    }

    /** The floating-point dtypes x and y may have: F32, and those readAsF32 converts. */
    private static boolean floating(String dtype) {
        return dtype.equals("F32") || dtype.equals("F16") || dtype.equals("BF16") || dtype.equals("F64");
    }

    /** Answers N, the rows of x, after checking x's shape and the targets or labels {@code loss} needs. */
    int rows(Loss loss) throws SafeTensorsException {
        Entry x = require("x");
        if (!floating(x.dtype) || x.shape.length != 2 || x.shape[0] < 1 || x.shape[1] < 1) {
            throw new SafeTensorsException(source + ": x must be F32 (or F16, BF16, F64) of shape [N, n_0] with N, n_0 >= 1,"
                    + " got " + x.dtype + " " + java.util.Arrays.toString(x.shape));
        }
        long n = x.shape[0];
        if (loss != Loss.SOFTMAX_CROSS_ENTROPY) {
            if (!entries.containsKey("y")) {
                throw new SafeTensorsException(source + ": missing tensor y: loss mse needs targets y [N, n_L]");
            }
            Entry y = entries.get("y");
            if (!floating(y.dtype) || y.shape.length != 2 || y.shape[0] != n || y.shape[1] < 1) {
                throw new SafeTensorsException(source + ": y must be F32 (or F16, BF16, F64) of shape [" + n
                        + ", n_L] to match x, got "
                        + y.dtype + " " + java.util.Arrays.toString(y.shape));
            }
        } else {
            if (!entries.containsKey("labels")) {
                throw new SafeTensorsException(source + ": missing tensor labels: loss softmax-ce needs integer labels [N]");
            }
            Entry l = entries.get("labels");
            if (!(l.dtype.equals("I32") || l.dtype.equals("I64")) || l.shape.length != 1 || l.shape[0] != n) {
                throw new SafeTensorsException(source + ": labels must be I32 or I64 of shape [" + n + "] to match x, got "
                        + l.dtype + " " + java.util.Arrays.toString(l.shape));
            }
        }
        return Math.toIntExact(n);
    }

    int inputWidth() throws SafeTensorsException {
        return Math.toIntExact(require("x").shape[1]);
    }

    private Entry require(String name) throws SafeTensorsException {
        Entry e = entries.get(name);
        if (e == null) {
            throw new SafeTensorsException(source + ": missing tensor " + name);
        }
        return e;
    }

    /**
     * Reads rows {@code from..to-1} as a batch for {@code loss}; {@code where} names the range in
     * messages (e.g. {@code "shard 2 of 4 (rows 6..8 of d.safetensors)"}).
     */
    private Batch readRows(int from, int to, Loss loss, String where) throws IOException {
        rows(loss);
        final int rows = to - from;
        Entry x = entries.get("x");
        int n0 = (int) x.shape[1];
        FileSystem fs = fs(source);
        long size = fs.getFileStatus(new Path(source)).getLen();
        if (size != fileBytes) {
            throw new SafeTensorsException(where + ": the file is " + size + " bytes, not the " + fileBytes
                    + " its header was read from: it changed after the job started");
        }
        try (FSDataInputStream in = fs.open(new Path(source))) {
            float[] xs = floats(in, x, "x", from, rows, n0, where);
            checkFinite(where, "x", xs, n0, from);
            if (loss != Loss.SOFTMAX_CROSS_ENTROPY) {
                Entry y = entries.get("y");
                int nL = (int) y.shape[1];
                float[] ys = floats(in, y, "y", from, rows, nL, where);
                checkFinite(where, "y", ys, nL, from);
                return Batch.regression(xs, n0, ys, nL);
            }
            Entry l = entries.get("labels");
            int w = width(l.dtype);
            byte[] bytes = new byte[rows * w];
            in.readFully(dataStart + l.begin + (long) from * w, bytes);
            ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            int[] labels = new int[rows];
            for (int i = 0; i < rows; i++) {
                long v = w == 8 ? b.getLong() : b.getInt();
                if (v != (int) v) {
                    // labelsAsInts' message, with the shard
                    throw new SafeTensorsException(String.format("%s: tensor \"labels\" (I64) value %d at flat index %d is"
                            + " outside int range", where, v, from + i));
                }
                if (v < 0 || v >= Integer.MAX_VALUE) {
                    throw new SafeTensorsException(where + ": labels[" + (from + i) + "] is " + v
                            + (v < 0 ? ": labels must be non-negative" : ": too large"));
                }
                labels[i] = (int) v;
            }
            return Batch.classification(xs, n0, labels);
        } catch (java.io.EOFException e) {
            throw new SafeTensorsException(where + ": file ended while reading; was it truncated?");
        }
    }

    private float[] floats(FSDataInputStream in, Entry t, String name, int from, int rows, int cols, String where)
            throws IOException {
        int w = width(t.dtype);
        byte[] bytes = new byte[Math.multiplyExact(Math.multiplyExact(rows, cols), w)];
        in.readFully(dataStart + t.begin + (long) from * cols * w, bytes);
        float[] f = new float[rows * cols];
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int overflow = FloatFormats.decode(b, DType.valueOf(t.dtype), f, 0, f.length);
        if (overflow >= 0) {
            // Tensor.f64Overflow's message, with the shard
            throw new SafeTensorsException(String.format(Locale.ROOT, "%s: tensor \"%s\" (F64) value %s at flat index %d is"
                    + " beyond the F32 range (largest magnitude %s): it cannot be converted to F32", where, name,
                    b.getDouble(overflow * Double.BYTES), (long) from * cols + overflow, Float.MAX_VALUE));
        }
        return f;
    }

    private static void checkFinite(String where, String name, float[] a, int cols, int firstRow)
            throws SafeTensorsException {
        for (int j = 0; j < a.length; j++) {
            if (!Float.isFinite(a[j])) {
                String at = "[" + (firstRow + j / cols) + ", " + j % cols + "]";
                throw new SafeTensorsException(where + ": " + name + at + " is " + a[j] + ": values must be finite");
            }
        }
    }

    /** A strict reader of the header's JSON object: tensor entries (dtype, shape, data_offsets) and __metadata__. */
    private static final class Parser {
        private final String s;
        private final String source;
        private int i;

        Parser(String s, String source) {
            this.s = s.stripTrailing();
            this.source = source;
        }

        Map<String, Entry> entries() throws SafeTensorsException {
            Map<String, Entry> out = new HashMap<>();
            expect('{');
            if (peek() != '}') {
                do {
                    String name = string();
                    expect(':');
                    if (name.equals("__metadata__")) {
                        skipValue();
                    } else {
                        if (out.put(name, entry(name)) != null) {
                            throw fail("duplicate tensor " + name);
                        }
                    }
                } while (comma());
            }
            expect('}');
            skipWs();
            if (i != s.length()) {
                throw fail("text after the header object");
            }
            return out;
        }

        private Entry entry(String name) throws SafeTensorsException {
            String dtype = null;
            long[] shape = null;
            long[] offsets = null;
            expect('{');
            if (peek() != '}') {
                do {
                    String key = string();
                    expect(':');
                    switch (key) {
                        case "dtype" -> dtype = string().toUpperCase(Locale.ROOT);
                        case "shape" -> shape = longs();
                        case "data_offsets" -> offsets = longs();
                        default -> skipValue();
                    }
                } while (comma());
            }
            expect('}');
            if (dtype == null || shape == null || offsets == null || offsets.length != 2) {
                throw fail("tensor " + name + " needs dtype, shape and data_offsets [begin, end]");
            }
            return new Entry(dtype, shape, offsets[0], offsets[1]);
        }

        private long[] longs() throws SafeTensorsException {
            expect('[');
            java.util.List<Long> v = new java.util.ArrayList<>();
            if (peek() != ']') {
                do {
                    skipWs();
                    int start = i;
                    while (i < s.length() && Character.isDigit(s.charAt(i))) {
                        i++;
                    }
                    if (start == i) {
                        throw fail("a non-negative integer expected at header offset " + start);
                    }
                    try {
                        v.add(Long.parseLong(s.substring(start, i)));
                    } catch (NumberFormatException e) {
                        throw fail("integer too large at header offset " + start);
                    }
                } while (comma());
            }
            expect(']');
            return v.stream().mapToLong(Long::longValue).toArray();
        }

        private void skipValue() throws SafeTensorsException {
            char c = peek();
            if (c == '"') {
                string();
            } else if (c == '{' || c == '[') {
                char close = c == '{' ? '}' : ']';
                i++;
                if (peek() != close) {
                    do {
                        if (c == '{') {
                            string();
                            expect(':');
                        }
                        skipValue();
                    } while (comma());
                }
                expect(close);
            } else {
                while (i < s.length() && ",}] \t\r\n".indexOf(s.charAt(i)) < 0) {
                    i++;
                }
            }
        }

        private String string() throws SafeTensorsException {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (i < s.length() && s.charAt(i) != '"') {
                char c = s.charAt(i++);
                if (c == '\\') {
                    if (i >= s.length()) {
                        break;
                    }
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            if (i + 4 > s.length()) {
                                throw fail("bad \\u escape");
                            }
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
            expect('"');
            return b.toString();
        }

        private boolean comma() {
            skipWs();
            if (i < s.length() && s.charAt(i) == ',') {
                i++;
                return true;
            }
            return false;
        }

        private char peek() throws SafeTensorsException {
            skipWs();
            if (i >= s.length()) {
                throw fail("header ends early");
            }
            return s.charAt(i);
        }

        private void expect(char c) throws SafeTensorsException {
            if (peek() != c) {
                throw fail("'" + c + "' expected at header offset " + i);
            }
            i++;
        }

        private void skipWs() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private SafeTensorsException fail(String what) {
            return new SafeTensorsException(source + ": malformed header: " + what);
        }
    }
}
