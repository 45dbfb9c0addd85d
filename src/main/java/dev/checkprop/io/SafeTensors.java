package dev.checkprop.io;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * An immutable, fully loaded <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * file: named {@link Tensor}s plus string metadata. No third-party code is involved.
 *
 * <h2>Format</h2>
 * An 8-byte little-endian unsigned header length {@code n}; {@code n} bytes of UTF-8 JSON; then the
 * data section, the tensors' raw little-endian bytes. The header is an object mapping each tensor
 * name to {@code {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}}, offsets
 * relative to the data section with {@code end} exclusive, plus an optional {@code "__metadata__"}
 * object of string values.
 *
 * <h2>Reading</h2>
 * The reader is strict, like the reference implementation, and fails with a
 * {@link SafeTensorsException} naming the file and the tensor, key or offset concerned, never with
 * another exception or an out-of-memory: the header must be at most {@value #MAX_HEADER_BYTES}
 * bytes (and at most an eighth of the usable heap, with one entry per 512 bytes of it: the figures
 * are in the message) of valid UTF-8 holding one JSON object (only whitespace may follow it), nested at most 64
 * deep, without duplicate keys; dtypes must be those of {@link DType}; shapes at most 1024
 * non-negative dimensions each at most {@code 2^31-1}; each tensor's byte span must match its
 * shape and dtype; and the tensors must cover the data section exactly, without overlap, gap or
 * trailing bytes. Unknown fields inside a tensor entry are ignored, as the reference does.
 *
 * <p>A file is read by position: the header first, then each tensor's bytes from its offset, so
 * files of any size are read (the offsets are 64-bit) and nothing but the tensors themselves is
 * held. F32 tensors are read straight into float arrays, through one 64 KiB buffer;
 * {@link #readAsF32} reads F16, BF16 and F64 tensors into float arrays in the same way, converting
 * each element (exactly for F16 and BF16, to the nearest float for F64). A tensor is one Java array,
 * so a tensor read into floats has at most {@value Tensor#MAX_FLOATS} elements and one kept as bytes
 * (the other dtypes) less than 2 GiB: a larger one is a {@link SafeTensorsException} naming it. What
 * the tensors will occupy must fit the usable heap ({@link dev.checkprop.memory.HeapBudget#usable()}),
 * checked before any tensor is allocated.
 *
 * <h2>Writing</h2>
 * The writer produces what the reference writer produces: compact JSON padded with spaces so the
 * data starts at an 8-byte aligned offset, tensors laid out contiguously ordered by decreasing
 * dtype alignment then by name (so each tensor is aligned to its element size). Metadata is
 * written sorted by key.
 */
public final class SafeTensors {

    /** Largest header accepted, as in the reference implementation. */
    public static final int MAX_HEADER_BYTES = 100_000_000;

    /**
     * Largest file held in one byte array: by {@link #read(byte[], String)} and {@link #toBytes()}.
     * Files read from and written to disk have no such limit.
     */
    public static final long MAX_FILE_BYTES = Integer.MAX_VALUE;

    private static final VarHandle LE_LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    /** UTF-8 byte order, which is the reference's name order (String.compareTo differs past U+FFFF). */
    private static final Comparator<String> NAME_ORDER = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private static final Comparator<Tensor> WRITE_ORDER = Comparator.comparing(Tensor::dtype).reversed()
            .thenComparing(Tensor::name, NAME_ORDER);

    private final SortedMap<String, Tensor> tensors;
    private final Map<String, String> metadata;
    private final String source;

    private SafeTensors(SortedMap<String, Tensor> tensors, SortedMap<String, String> metadata, String source) {
        this.tensors = Collections.unmodifiableSortedMap(tensors);
        this.metadata = Collections.unmodifiableSortedMap(metadata);
        this.source = source;
    }

    /** Reads position..position+dst.length into dst, or fails. */
    @FunctionalInterface
    private interface Input {
        void readFully(long position, byte[] dst) throws IOException;

        /**
         * Reads {@code dst.length} little-endian elements of {@code dtype} (F32, or F16, BF16 or F64
         * to convert) from position into dst, or answers false if this input keeps bytes instead
         * (an in-memory file already holds them).
         *
         * @param name the tensor, for the message about an F64 value beyond the float range
         */
        default boolean readFloats(long position, DType dtype, float[] dst, String name) throws IOException {
            return false;
        }
    }

    /** Bytes read per step when streaming floats from a file: the only transient buffer. */
    private static final int CHUNK = 1 << 16;

    /**
     * Reads and validates a safetensors file, keeping every tensor in its dtype. The header length
     * is checked against the file size before anything of that size is allocated; each tensor is
     * then read into its own array, F32 tensors into float arrays.
     *
     * @throws SafeTensorsException if the file is malformed, or a tensor is too large for one array
     * @throws IOException if it cannot be read
     */
    public static SafeTensors read(Path path) throws IOException {
        return read(path, false);
    }

    /**
     * As {@link #read(Path)}, but every F16, BF16 and F64 tensor is converted to F32 as it is read,
     * straight into its float array (exactly for F16 and BF16, rounded to the nearest float for F64;
     * NaN and infinities are kept, for the caller's checks to refuse): {@link Tensor#dtype()} is
     * then F32 and {@link Tensor#storedAs()} the file's dtype, and {@link #conversions()} counts them.
     * Integer and boolean tensors are kept as they are.
     *
     * @throws SafeTensorsException as {@link #read(Path)}, or naming a finite F64 value beyond the
     *     float range
     */
    public static SafeTensors readAsF32(Path path) throws IOException {
        return read(path, true);
    }

    private static SafeTensors read(Path path, boolean convert) throws IOException {
        try (Reader reader = open(path)) {
            return reader.readAll(convert);
        }
    }

    /**
     * Opens a safetensors file and reads and validates its header only, as {@link #read(Path)} does;
     * tensors are then read one at a time, each from its position in the file, with
     * {@link Reader#read}: a few tensors of a file of any size can be read without reading the rest.
     *
     * @throws SafeTensorsException if the header is malformed or does not match the file's size
     * @throws IOException if it cannot be read
     */
    public static Reader open(Path path) throws IOException {
        String source = path.toString();
        FileChannel channel;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
        } catch (IOException e) {
            throw fileError(source, e);
        }
        try {
            FileInput input = new FileInput(channel, source);
            return new Reader(channel, input, parseHeader(channel.size(), input, source), source);
        } catch (IOException e) {
            channel.close();
            throw fileError(source, e);
        } catch (RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** An I/O failure naming the file; the reader's own exceptions, and a missing file, pass through. */
    private static IOException fileError(String source, IOException e) {
        if (e instanceof SafeTensorsException || e instanceof NoSuchFileException) {
            return e;
        }
        // "Is a directory", "Input/output error": say which file.
        return new IOException(source + ": cannot read: " + AtomicFiles.reason(e), e);
    }

    /**
     * An open safetensors file whose header has been read and validated ({@link #open}). Each
     * {@link #read} reads one tensor by its position, so files larger than the heap, or than 2 GiB,
     * can be read in parts. Not for concurrent use; {@link #close()} closes the file.
     */
    public static final class Reader implements AutoCloseable {
        private final FileChannel channel;
        private final FileInput input;
        private final Parsed parsed;
        private final String source;
        private final SortedMap<String, Header.Entry> entries = new TreeMap<>(NAME_ORDER);

        private Reader(FileChannel channel, FileInput input, Parsed parsed, String source) {
            this.channel = channel;
            this.input = input;
            this.parsed = parsed;
            this.source = source;
            for (Header.Entry e : parsed.header().entries) {
                entries.put(e.name(), e);
            }
        }

        /** Tensor names, in {@link SafeTensors#names()} order. */
        public List<String> names() {
            return List.copyOf(entries.keySet());
        }

        /** The {@code __metadata__} entries, sorted by key. Unmodifiable. */
        public Map<String, String> metadata() {
            return Collections.unmodifiableMap(parsed.header().metadata);
        }

        /** The dtype of tensor {@code name} in the file. */
        public DType dtype(String name) throws SafeTensorsException {
            return entry(name).dtype();
        }

        /**
         * How many of the file's tensors a float reader converts to F32 ({@link SafeTensors#readAsF32}),
         * by their stored dtype (F16, BF16, F64), from the header alone; empty when none would be.
         */
        public SortedMap<DType, Integer> conversions() {
            SortedMap<DType, Integer> counts = new TreeMap<>();
            for (Header.Entry e : entries.values()) {
                if (FloatFormats.converts(e.dtype())) {
                    counts.merge(e.dtype(), 1, Integer::sum);
                }
            }
            return counts;
        }

        /** A copy of the shape of tensor {@code name}. */
        public long[] shape(String name) throws SafeTensorsException {
            return entry(name).shape().clone();
        }

        /**
         * Reads tensor {@code name}: F32 into a float array, and with {@code asF32} also F16, BF16
         * and F64 (converted as {@link SafeTensors#readAsF32} does); other tensors as bytes.
         *
         * @throws SafeTensorsException if there is no such tensor, it is too large for one array, or
         *     (converting) an F64 value is beyond the float range
         * @throws IllegalStateException if it does not fit the heap
         */
        public Tensor read(String name, boolean asF32) throws IOException {
            Header.Entry e = entry(name);
            long footprint = footprint(e, source, true, asF32);
            dev.checkprop.memory.Preflight.heap(source + ": tensor " + HeaderJson.quote(name) + " (" + footprint + " bytes)",
                    footprint, "give a larger -Xmx");
            try {
                return load(e, input, parsed.dataStart(), source, true, asF32);
            } catch (IOException ex) {
                throw fileError(source, ex);
            }
        }

        /** Reads every tensor, as {@link SafeTensors#read(Path)} ({@code asF32} false) or {@link #readAsF32}. */
        public SafeTensors readAll(boolean asF32) throws IOException {
            try {
                return loadAll(parsed, input, source, true, asF32);
            } catch (IOException ex) {
                throw fileError(source, ex);
            }
        }

        private Header.Entry entry(String name) throws SafeTensorsException {
            Header.Entry e = entries.get(name);
            if (e == null) {
                throw new SafeTensorsException(source + ": no tensor " + HeaderJson.quote(name) + " (the file has "
                        + entries.size() + " tensors)");
            }
            return e;
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A file read by position through its channel. */
    private static final class FileInput implements Input {
        private final FileChannel channel;
        private final String source;

        FileInput(FileChannel channel, String source) {
            this.channel = channel;
            this.source = source;
        }

        @Override
        public void readFully(long position, byte[] dst) throws IOException {
            fill(ByteBuffer.wrap(dst), position);
        }

        @Override
        public boolean readFloats(long position, DType dtype, float[] dst, String name) throws IOException {
            // Tensors go straight into their final arrays through one small buffer, so a model is
            // never held as bytes and floats at once.
            final int size = dtype.byteSize();
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            int done = 0;
            while (done < dst.length) {
                int n = Math.min(CHUNK / size, dst.length - done);
                chunk.clear().limit(n * size);
                fill(chunk, position + (long) done * size);
                chunk.flip();
                int overflow = FloatFormats.decode(chunk, dtype, dst, done, n);
                if (overflow >= 0) {
                    throw Tensor.f64Overflow(source, name, chunk.getDouble(overflow * Double.BYTES), (long) done + overflow);
                }
                done += n;
            }
            return true;
        }

        private void fill(ByteBuffer buffer, long position) throws IOException {
            int start = buffer.position();
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, position + buffer.position() - start) < 0) {
                    throw new SafeTensorsException(String.format(
                            "%s: file ended at offset %d while reading; was it truncated while being read?",
                            source, position + buffer.position() - start));
                }
            }
        }
    }

    /**
     * Reads and validates a safetensors file held in memory.
     *
     * @param sourceName names the file in error messages
     * @throws SafeTensorsException if the bytes are not a valid safetensors file
     */
    public static SafeTensors read(byte[] bytes, String sourceName) throws SafeTensorsException {
        try {
            return parse(bytes.length, (position, dst) -> System.arraycopy(bytes, (int) position, dst, 0, dst.length),
                    sourceName, false, false);
        } catch (SafeTensorsException e) {
            throw e;
        } catch (IOException e) {
            throw new AssertionError("in-memory input threw " + e, e);
        }
    }

    /**
     * Header bytes accepted in this JVM: the format's limit, or an eighth of the usable heap, since
     * parsing holds the bytes and the strings and maps built from them.
     */
    static long headerLimit() {
        return Math.min(MAX_HEADER_BYTES, dev.checkprop.memory.HeapBudget.usable() / 8);
    }

    /**
     * Header entries (tensors and metadata) accepted in this JVM: one per 512 bytes of usable heap,
     * what an entry's strings, map node and tensor object cost with room to spare.
     */
    static long entryLimit() {
        return Math.max(1024, dev.checkprop.memory.HeapBudget.usable() / 512);
    }

    /** A validated header and where the data section starts and how long it is. */
    private record Parsed(Header header, long dataStart, long dataLength) {
    }

    private static SafeTensors parse(long size, Input input, String source, boolean fromFile, boolean convert)
            throws IOException {
        return loadAll(parseHeader(size, input, source), input, source, fromFile, convert);
    }

    private static Parsed parseHeader(long size, Input input, String source) throws IOException {
        if (size < Long.BYTES) {
            throw new SafeTensorsException(source + ": file is " + size
                    + " bytes, shorter than the 8-byte header length at file offset 0");
        }
        byte[] prefix = new byte[Long.BYTES];
        input.readFully(0, prefix);
        long n = (long) LE_LONG.get(prefix, 0);
        // Unsigned in the format: a negative long is a length of 2^63 or more.
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(source + ": header length " + Long.toUnsignedString(n)
                    + " (file offset 0) exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        long limit = headerLimit();
        if (n > limit) {
            throw new SafeTensorsException(source + ": header length " + n + " (file offset 0) exceeds the " + limit
                    + " bytes this JVM's heap can parse (-Xmx " + dev.checkprop.memory.HeapBudget.human(Runtime.getRuntime().maxMemory())
                    + "; the format allows " + MAX_HEADER_BYTES + ")");
        }
        if (n > size - Long.BYTES) {
            throw new SafeTensorsException(source + ": header length " + n + " (file offset 0) runs past the end of the "
                    + size + "-byte file, which has room for " + (size - Long.BYTES));
        }
        byte[] headerBytes = new byte[(int) n];
        input.readFully(Long.BYTES, headerBytes);
        long dataStart = Long.BYTES + n;
        long dataLength = size - dataStart;
        return new Parsed(Header.parse(headerBytes, dataLength, source, entryLimit()), dataStart, dataLength);
    }

    private static SafeTensors loadAll(Parsed parsed, Input input, String source, boolean fromFile, boolean convert)
            throws IOException {
        // Before any tensor is allocated: each must fit one array, and all of them the heap.
        long footprint = 0;
        for (Header.Entry e : parsed.header().entries) {
            footprint += footprint(e, source, fromFile, convert);
        }
        if (fromFile) {
            dev.checkprop.memory.Preflight.heap(source + ": its " + parsed.dataLength() + " bytes of tensors"
                    + (footprint != parsed.dataLength() ? " (" + footprint + " bytes as F32)" : ""), footprint,
                    "give a larger -Xmx");
        }
        SortedMap<String, Tensor> tensors = new TreeMap<>(NAME_ORDER);
        for (Header.Entry e : parsed.header().entries) {
            tensors.put(e.name(), load(e, input, parsed.dataStart(), source, fromFile, convert));
        }
        return new SafeTensors(tensors, new TreeMap<>(parsed.header().metadata), source);
    }

    /**
     * The bytes tensor {@code e} occupies once read: 4 per element in a float array, or its bytes.
     *
     * @throws SafeTensorsException naming it if it is too large for one array
     */
    private static long footprint(Header.Entry e, String source, boolean fromFile, boolean convert)
            throws SafeTensorsException {
        long bytes = e.end() - e.begin();
        if (fromFile && asFloats(e.dtype(), convert)) {
            long elements = bytes / e.dtype().byteSize();
            if (elements > Tensor.MAX_FLOATS) {
                throw new SafeTensorsException(String.format("%s: tensor %s (%s, shape %s) has %d elements, more than"
                                + " the %d one Java array can hold; checkprop keeps every tensor in one array",
                        source, HeaderJson.quote(e.name()), e.dtype(), java.util.Arrays.toString(e.shape()), elements,
                        Tensor.MAX_FLOATS));
            }
            return elements * Float.BYTES;
        }
        if (bytes > Tensor.MAX_DATA_BYTES) {
            throw new SafeTensorsException(String.format("%s: tensor %s (%s, shape %s) has %d bytes, more than the %d"
                            + " one Java byte array can hold%s", source, HeaderJson.quote(e.name()), e.dtype(),
                    java.util.Arrays.toString(e.shape()), bytes, Tensor.MAX_DATA_BYTES,
                    fromFile && FloatFormats.converts(e.dtype()) && bytes / e.dtype().byteSize() <= Tensor.MAX_FLOATS
                            ? " (SafeTensors.readAsF32 reads it into a float array instead)" : ""));
        }
        return bytes;
    }

    /** Reads tensor {@code e}, whose size {@link #footprint} has accepted. */
    private static Tensor load(Header.Entry e, Input input, long dataStart, String source, boolean fromFile, boolean convert)
            throws IOException {
        long bytes = e.end() - e.begin();
        if (fromFile && asFloats(e.dtype(), convert)) {
            float[] floats = new float[(int) (bytes / e.dtype().byteSize())];
            if (input.readFloats(dataStart + e.begin(), e.dtype(), floats, e.name())) {
                return new Tensor(e.name(), e.shape(), floats, source, e.dtype());
            }
        }
        byte[] data = new byte[(int) bytes];
        input.readFully(dataStart + e.begin(), data);
        return new Tensor(e.name(), e.dtype(), e.shape(), data, source);
    }

    /** Whether a tensor of {@code dtype} read from a file goes straight into a float array. */
    private static boolean asFloats(DType dtype, boolean convert) {
        return dtype == DType.F32 || convert && FloatFormats.converts(dtype);
    }

    /**
     * Writes the file as {@link #toBytes()} would, streaming rather than building it in memory, and
     * atomically ({@link AtomicFiles}): a failed or killed write leaves any old file at {@code path}
     * as it was.
     */
    public void write(Path path) throws IOException {
        List<Tensor> ordered = writeOrder();
        byte[] header = Header.format(ordered, metadata);
        AtomicFiles.write(path, out -> {
            out.write(prefix(header.length));
            out.write(header);
            for (Tensor t : ordered) {
                t.writeData(out);
            }
        });
    }

    /**
     * The file's bytes, in the layout described on this class.
     *
     * @throws IllegalStateException if the file would be larger than {@value #MAX_FILE_BYTES} bytes,
     *     which no byte array holds ({@link #write} has no such limit)
     */
    public byte[] toBytes() {
        List<Tensor> ordered = writeOrder();
        byte[] header = Header.format(ordered, metadata);
        long size = fileSize(header, ordered);
        if (size > MAX_FILE_BYTES) {
            throw new IllegalStateException("the file would be " + size + " bytes, more than a byte array holds; write it"
                    + " to a file instead");
        }
        ByteBuffer out = ByteBuffer.allocate((int) size);
        out.put(prefix(header.length)).put(header);
        ordered.forEach(t -> out.put(t.data()));
        return out.array();
    }

    /** Tensor names, in UTF-8 byte order (which is Unicode code point order). */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /** All tensors by name, in {@link #names()} order; unmodifiable. */
    public SortedMap<String, Tensor> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}. */
    public Tensor tensor(String name) throws SafeTensorsException {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new SafeTensorsException(source + ": no tensor " + HeaderJson.quote(name) + " (the file has "
                    + tensors.size() + " tensors)");
        }
        return t;
    }

    /** Whether the file has a tensor called {@code name}. */
    public boolean has(String name) {
        return tensors.containsKey(name);
    }

    /** The {@code __metadata__} entries, sorted by key; empty if the file has none. Unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * How many tensors were converted to F32 on load ({@link #readAsF32}), by the dtype the file
     * stored them in (F16, BF16, F64); empty when none was.
     */
    public SortedMap<DType, Integer> conversions() {
        SortedMap<DType, Integer> counts = new TreeMap<>();
        for (Tensor t : tensors.values()) {
            if (t.storedAs() != t.dtype()) {
                counts.merge(t.storedAs(), 1, Integer::sum);
            }
        }
        return counts;
    }

    /**
     * One phrase for {@link #conversions()}: {@code "converted 3 tensors from bf16 to f32"},
     * {@code "converted 2 tensors from f16 and 1 from f64 to f32"}, or the empty string when there were none.
     */
    public static String describeConversions(Map<DType, Integer> conversions) {
        if (conversions.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder("converted ");
        int k = 0;
        for (Map.Entry<DType, Integer> e : new TreeMap<>(conversions).entrySet()) {
            String from = e.getKey().name().toLowerCase(java.util.Locale.ROOT);
            sb.append(k == 0 ? "" : k == conversions.size() - 1 ? " and " : ", ").append(e.getValue());
            if (k == 0) {
                sb.append(e.getValue() == 1 ? " tensor" : " tensors");
            }
            sb.append(" from ").append(from);
            k++;
        }
        return sb.append(" to f32").toString();
    }

    /** An empty builder. */
    public static Builder builder() {
        return new Builder();
    }

    /** Equal when tensors and metadata are equal; where the data came from does not count. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SafeTensors s && tensors.equals(s.tensors) && metadata.equals(s.metadata);
    }

    @Override
    public int hashCode() {
        return Objects.hash(tensors, metadata);
    }

    @Override
    public String toString() {
        return "SafeTensors[" + source + ", " + tensors.values() + ", metadata=" + metadata + "]";
    }

    private List<Tensor> writeOrder() {
        List<Tensor> ordered = new ArrayList<>(tensors.values());
        ordered.sort(WRITE_ORDER);
        return ordered;
    }

    private static long fileSize(byte[] header, List<Tensor> tensors) {
        long size = Long.BYTES + header.length;
        for (Tensor t : tensors) {
            size += t.byteSize();
        }
        return size;
    }

    private static byte[] prefix(long headerLength) {
        byte[] prefix = new byte[Long.BYTES];
        LE_LONG.set(prefix, 0, headerLength);
        return prefix;
    }

    /**
     * Collects tensors and metadata; data arrays are copied when added. Every method rejects bad
     * input with an {@link IllegalArgumentException} naming the tensor or key. NaN and infinite
     * values are stored as given.
     */
    public static final class Builder {
        private final SortedMap<String, Tensor> tensors = new TreeMap<>(NAME_ORDER);
        private final SortedMap<String, String> metadata = new TreeMap<>();

        private Builder() {
        }

        /** Adds an F32 tensor; {@code data} holds the elements in row-major order. */
        public Builder putF32(String name, long[] shape, float[] data) {
            return put(Tensor.ofF32(name, shape, data));
        }

        /**
         * Adds an F32 tensor that reads {@code data} itself rather than a copy, so that writing a model,
         * its gradients or a checkpoint takes no second copy of the parameters (which a heap sized for
         * one would not hold). The caller must not change {@code data} while the built file is in use:
         * build, {@linkplain SafeTensors#write write}, and drop it.
         */
        public Builder putF32View(String name, long[] shape, float[] data) {
            return put(Tensor.viewF32(name, shape, data));
        }

        /** Adds an I32 tensor; {@code data} holds the elements in row-major order. */
        public Builder putI32(String name, long[] shape, int[] data) {
            return put(Tensor.ofI32(name, shape, data));
        }

        /** Adds an I64 tensor; {@code data} holds the elements in row-major order. */
        public Builder putI64(String name, long[] shape, long[] data) {
            return put(Tensor.ofI64(name, shape, data));
        }

        /** Adds a tensor of any dtype, e.g. one made with {@link Tensor#of} or read from another file. */
        public Builder put(Tensor tensor) {
            if (tensors.putIfAbsent(tensor.name(), tensor) != null) {
                throw new IllegalArgumentException("duplicate tensor " + HeaderJson.quote(tensor.name()));
            }
            return this;
        }

        /** Adds a {@code __metadata__} entry. */
        public Builder metadata(String key, String value) {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(value, () -> "value of metadata " + HeaderJson.quote(key));
            Tensor.checkUnicode(key, "metadata key");
            Tensor.checkUnicode(value, "value of metadata " + HeaderJson.quote(key));
            if (metadata.putIfAbsent(key, value) != null) {
                throw new IllegalArgumentException("duplicate metadata key " + HeaderJson.quote(key));
            }
            return this;
        }

        /** The file built so far. */
        public SafeTensors build() {
            return new SafeTensors(new TreeMap<>(tensors), new TreeMap<>(metadata), Tensor.IN_MEMORY);
        }
    }
}
