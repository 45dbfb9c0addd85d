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
 * trailing bytes. Unknown fields inside a tensor entry are ignored, as the reference does. Files
 * must be smaller than 2 GiB ({@value #MAX_FILE_BYTES} bytes at most), and a file's data section
 * must fit the usable heap ({@link dev.checkprop.memory.HeapBudget#usable()}), checked before any
 * tensor is allocated. F32 tensors are read straight into float arrays.
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

    /** Largest file accepted or produced; tensors are held in Java arrays. */
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
         * Reads little-endian floats from position into dst, or answers false if this input keeps
         * bytes instead (an in-memory file already holds them).
         */
        default boolean readFloats(long position, float[] dst) throws IOException {
            return false;
        }
    }

    /** Bytes read per step when streaming floats from a file: the only transient buffer. */
    private static final int CHUNK = 1 << 16;

    /**
     * Reads and validates a safetensors file. The header length is checked against the file size
     * before anything of that size is allocated; each tensor is then read into its own array.
     *
     * @throws SafeTensorsException if the file is malformed or 2 GiB or larger
     * @throws IOException if it cannot be read
     */
    public static SafeTensors read(Path path) throws IOException {
        String source = path.toString();
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            return parse(channel.size(), new Input() {
                @Override
                public void readFully(long position, byte[] dst) throws IOException {
                    fill(ByteBuffer.wrap(dst), position);
                }

                @Override
                public boolean readFloats(long position, float[] dst) throws IOException {
                    // F32 tensors go straight into their final arrays through one small buffer, so a
                    // model is never held as bytes and floats at once.
                    ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    int done = 0;
                    while (done < dst.length) {
                        int n = Math.min(CHUNK / Float.BYTES, dst.length - done);
                        chunk.clear().limit(n * Float.BYTES);
                        fill(chunk, position + (long) done * Float.BYTES);
                        chunk.flip();
                        chunk.asFloatBuffer().get(dst, done, n);
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
            }, source, true);
        } catch (SafeTensorsException | NoSuchFileException e) {
            throw e;
        } catch (IOException e) {
            // "Is a directory", "Input/output error": say which file.
            throw new IOException(source + ": cannot read: " + AtomicFiles.reason(e), e);
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
                    sourceName, false);
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

    private static SafeTensors parse(long size, Input input, String source, boolean checkHeap) throws IOException {
        if (size < Long.BYTES) {
            throw new SafeTensorsException(source + ": file is " + size
                    + " bytes, shorter than the 8-byte header length at file offset 0");
        }
        if (size > MAX_FILE_BYTES) {
            throw new SafeTensorsException(source + ": file is " + size
                    + " bytes; files of 2 GiB or more are not supported");
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
        if (checkHeap) {
            // Before any tensor is allocated: the data section is what the tensors will occupy.
            dev.checkprop.memory.Preflight.heap(source + ": its " + (size - dataStart) + " bytes of tensors", size - dataStart,
                    "give a larger -Xmx");
        }
        Header header = Header.parse(headerBytes, size - dataStart, source, entryLimit());
        headerBytes = null; // parsed: let it go before the tensors arrive
        SortedMap<String, Tensor> tensors = new TreeMap<>(NAME_ORDER);
        for (Header.Entry e : header.entries) {
            int bytes = (int) (e.end() - e.begin());
            if (e.dtype() == DType.F32) {
                float[] floats = new float[bytes / Float.BYTES];
                if (input.readFloats(dataStart + e.begin(), floats)) {
                    tensors.put(e.name(), new Tensor(e.name(), e.shape(), floats, source));
                    continue;
                }
            }
            byte[] data = new byte[bytes];
            input.readFully(dataStart + e.begin(), data);
            tensors.put(e.name(), new Tensor(e.name(), e.dtype(), e.shape(), data, source));
        }
        return new SafeTensors(tensors, new TreeMap<>(header.metadata), source);
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
                out.write(t.data());
            }
        });
    }

    /** The file's bytes, in the layout described on this class. */
    public byte[] toBytes() {
        List<Tensor> ordered = writeOrder();
        byte[] header = Header.format(ordered, metadata);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(fileSize(header, ordered)));
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

        /**
         * The file built so far.
         *
         * @throws IllegalArgumentException if the file would reach 2 GiB, which the reader refuses
         */
        public SafeTensors build() {
            SafeTensors built = new SafeTensors(new TreeMap<>(tensors), new TreeMap<>(metadata), Tensor.IN_MEMORY);
            List<Tensor> ordered = built.writeOrder();
            long size = fileSize(Header.format(ordered, metadata), ordered);
            if (size > MAX_FILE_BYTES) {
                throw new IllegalArgumentException("the file would be " + size + " bytes; at most "
                        + MAX_FILE_BYTES + " are supported");
            }
            return built;
        }
    }
}
