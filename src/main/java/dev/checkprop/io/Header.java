package dev.checkprop.io;

import static dev.checkprop.io.HeaderJson.quote;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A validated safetensors header: where each tensor lies in the data section, plus metadata. */
final class Header {

    static final String METADATA_KEY = "__metadata__";

    /**
     * Most dimensions accepted in a shape. Not a format rule: it keeps a hostile header from
     * turning 100 MB of {@code 1,1,1,...} into a gigabyte of longs.
     */
    static final int MAX_RANK = 1024;

    /** One tensor as the header describes it; offsets are relative to the data section. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {
    }

    final List<Entry> entries;
    final Map<String, String> metadata;

    private Header(List<Entry> entries, Map<String, String> metadata) {
        this.entries = entries;
        this.metadata = metadata;
    }

    /**
     * Parses and validates {@code header}, the bytes between the length prefix and a data section of
     * {@code dataLength} bytes: every tensor must be well formed and the tensors must tile the data
     * section exactly, as the reference reader requires.
     */
    static Header parse(byte[] header, long dataLength, String source) throws SafeTensorsException {
        return parse(header, dataLength, source, Long.MAX_VALUE);
    }

    /**
     * As {@link #parse(byte[], long, String)}, refusing more than {@code maxEntries} tensors and
     * metadata entries together: a legal header of millions of tiny keys would otherwise exhaust
     * the heap in maps and strings.
     */
    static Header parse(byte[] header, long dataLength, String source, long maxEntries) throws SafeTensorsException {
        HeaderJson.checkUtf8(header, 0, header.length, source);
        HeaderJson json = new HeaderJson(header, 0, header.length, source);
        // The reference reader also insists on '{' first, without leading whitespace.
        if (json.peekRaw() != '{') {
            throw json.error(0, "header is not a JSON object (it must start with '{')");
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, String> metadata = new TreeMap<>();
        long[] count = {0};
        json.readObject("the header", (key, keyPosition) -> {
            if (key.equals(METADATA_KEY)) {
                json.readObject(METADATA_KEY, (name, p) -> {
                    countEntry(json, count, maxEntries, p);
                    metadata.put(name, json.readString("the value of " + METADATA_KEY + " entry " + quote(name)));
                });
            } else {
                countEntry(json, count, maxEntries, keyPosition);
                entries.add(new EntryReader(json, key, keyPosition).read(dataLength));
            }
        });
        json.expectEnd();
        checkLayout(entries, dataLength, source);
        return new Header(entries, metadata);
    }

    /**
     * The header for {@code tensors}, whose data is laid out contiguously in the given order:
     * compact JSON with {@value #METADATA_KEY} first (omitted when empty), padded with spaces to a
     * multiple of 8 bytes so the data section starts 8-aligned. This matches the reference writer
     * byte for byte given the same order (it orders metadata by hash; we sort it).
     */
    static byte[] format(List<Tensor> tensors, Map<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            HeaderJson.appendString(sb, METADATA_KEY);
            sb.append(":{");
            metadata.forEach((k, v) -> {
                HeaderJson.appendString(sb, k);
                sb.append(':');
                HeaderJson.appendString(sb, v);
                sb.append(',');
            });
            sb.setCharAt(sb.length() - 1, '}');
            sb.append(',');
        }
        long offset = 0;
        for (Tensor t : tensors) {
            HeaderJson.appendString(sb, t.name());
            sb.append(":{\"dtype\":\"").append(t.dtype().name()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                sb.append(i == 0 ? "" : ",").append(shape[i]);
            }
            long next = offset + t.byteSize();
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(next).append("]},");
            offset = next;
        }
        if (sb.length() > 1) {
            sb.setLength(sb.length() - 1);
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        byte[] padded = Arrays.copyOf(json, (json.length + 7) & ~7);
        Arrays.fill(padded, json.length, padded.length, (byte) ' ');
        return padded;
    }

    private static void countEntry(HeaderJson json, long[] count, long max, int position) throws SafeTensorsException {
        if (++count[0] > max) {
            throw json.error(position, "the header has more than " + max + " entries (tensors and metadata), more than this"
                    + " JVM's heap (-Xmx " + dev.checkprop.memory.HeapBudget.human(Runtime.getRuntime().maxMemory())
                    + ") can hold while parsing");
        }
    }

    /** Tensors must cover [0, dataLength) exactly: no overlap, no gap, nothing after the last. */
    private static void checkLayout(List<Entry> entries, long dataLength, String source) throws SafeTensorsException {
        List<Entry> sorted = new ArrayList<>(entries);
        // Zero-length tensors sort before a tensor starting at the same offset, so they are not overlaps.
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long covered = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin() < covered) {
                throw new SafeTensorsException(String.format("%s: tensor %s data_offsets %s overlap tensor %s data_offsets %s",
                        source, quote(e.name()), offsets(e), quote(previous.name()), offsets(previous)));
            }
            if (e.begin() > covered) {
                throw new SafeTensorsException(String.format(
                        "%s: data section bytes [%d, %d) before tensor %s (data_offsets %s) belong to no tensor",
                        source, covered, e.begin(), quote(e.name()), offsets(e)));
            }
            covered = e.end();
            previous = e;
        }
        if (covered != dataLength) {
            String after = previous == null ? "there are no tensors"
                    : "the last tensor, " + quote(previous.name()) + ", ends at data offset " + covered;
            throw new SafeTensorsException(String.format(
                    "%s: data section has %d bytes but %s; bytes [%d, %d) belong to no tensor",
                    source, dataLength, after, covered, dataLength));
        }
    }

    private static String offsets(Entry e) {
        return "[" + e.begin() + ", " + e.end() + "]";
    }

    /** Reads one tensor's description; the fields may come in any order and unknown ones are skipped. */
    private static final class EntryReader {
        private final HeaderJson json;
        private final String name;
        private final String what;
        private final int position;
        private DType dtype;
        private long[] shape;
        private long[] offsets;

        EntryReader(HeaderJson json, String name, int position) {
            this.json = json;
            this.name = name;
            this.what = "tensor " + quote(name);
            this.position = position;
        }

        Entry read(long dataLength) throws SafeTensorsException {
            json.readObject(what, (field, p) -> {
                switch (field) {
                    case "dtype" -> {
                        int at = json.position();
                        String text = json.readString("the dtype of " + what);
                        dtype = DType.fromName(text).orElseThrow(() -> json.error(at,
                                what + " has unknown or unsupported dtype " + quote(text)
                                        + " (supported: " + Arrays.toString(DType.values()) + ")"));
                    }
                    case "shape" -> shape = readIntegers("the shape of " + what, MAX_RANK);
                    case "data_offsets" -> offsets = readIntegers("the data_offsets of " + what, 2);
                    default -> json.skipValue("field " + quote(field) + " of " + what);
                }
            });
            require(dtype, "dtype");
            require(shape, "shape");
            require(offsets, "data_offsets");
            if (offsets.length != 2) {
                throw json.error(position, "the data_offsets of " + what + " must be two integers [begin, end], found "
                        + offsets.length);
            }
            return validate(dataLength);
        }

        private Entry validate(long dataLength) throws SafeTensorsException {
            long begin = offsets[0];
            long end = offsets[1];
            String at = what + " (data_offsets [" + begin + ", " + end + "])";
            for (int i = 0; i < shape.length; i++) {
                // Dimensions above int range only fit an empty tensor; refusing them keeps dim() an int.
                if (shape[i] > Integer.MAX_VALUE) {
                    throw json.error(position, what + " has dimension " + i + " of size " + shape[i]
                            + ", above the supported 2^31-1");
                }
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(Tensor.elementCount(shape), dtype.byteSize());
            } catch (ArithmeticException e) {
                throw json.error(position, "the element count of " + what + " with shape " + Arrays.toString(shape)
                        + " overflows");
            }
            if (begin > end) {
                throw json.error(position, at + " begins after it ends");
            }
            if (end > dataLength) {
                throw json.error(position, at + " ends beyond the data section of " + dataLength + " bytes");
            }
            if (end - begin != bytes) {
                throw json.error(position, String.format("%s spans %d bytes but dtype %s with shape %s needs %d",
                        at, end - begin, dtype, Arrays.toString(shape), bytes));
            }
            return new Entry(name, dtype, shape, begin, end);
        }

        private void require(Object field, String key) throws SafeTensorsException {
            if (field == null) {
                throw json.error(position, what + " has no \"" + key + "\"");
            }
        }

        private long[] readIntegers(String description, int max) throws SafeTensorsException {
            List<Long> values = new ArrayList<>();
            json.readArray(description, i -> {
                if (i == max) {
                    throw json.error(json.position(), description + " has more than " + max + " entries");
                }
                values.add(json.readUnsignedInteger(description + "[" + i + "]"));
            });
            return values.stream().mapToLong(Long::longValue).toArray();
        }
    }
}
