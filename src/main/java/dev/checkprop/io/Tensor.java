package dev.checkprop.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One immutable tensor of a safetensors file: a name, a {@link DType}, a shape (row-major, may be
 * empty for a scalar) and the raw little-endian bytes of its elements.
 *
 * <p>Tensors of every {@link DType} can be read and written back unchanged; the typed getters
 * ({@link #toFloatArray()}, {@link #labelsAsInts()}) convert only the dtypes they name and throw
 * {@link SafeTensorsException} otherwise, since a wrong dtype means the file is not what the caller
 * expects. Dimensions are at most {@code 2^31-1}. A tensor held as bytes holds less than 2 GiB of
 * data; one read into floats ({@link SafeTensors#read(java.nio.file.Path)} for F32,
 * {@link SafeTensors#readAsF32} for every floating-point dtype) at most {@value #MAX_FLOATS}
 * elements, what one Java array can hold.
 */
public final class Tensor {

    static final String IN_MEMORY = "<in-memory>";

    // The largest array HotSpot reliably allocates.
    static final long MAX_DATA_BYTES = Integer.MAX_VALUE - 8;

    /** Most elements of a tensor read into a float array: the largest array HotSpot reliably allocates. */
    public static final int MAX_FLOATS = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    /** The raw bytes; null when the tensor was read straight into {@link #floats}. */
    private final byte[] data;
    /**
     * For F32 tensors read from a file: the elements, read straight from the file so that loading a
     * model holds each value once rather than as bytes and floats at the same time. Null otherwise.
     */
    private final float[] floats;
    /** The dtype the file stored the elements in: {@link #dtype} unless they were converted to F32 on load. */
    private final DType storedAs;
    // Only for messages: the file the tensor came from.
    private final String source;

    /** Trusted constructor: the arrays are owned by the new tensor and already validated. */
    Tensor(String name, DType dtype, long[] shape, byte[] data, String source) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
        this.floats = null;
        this.storedAs = dtype;
        this.source = source;
    }

    /** Trusted constructor for an F32 tensor whose elements were read straight into {@code floats}. */
    Tensor(String name, long[] shape, float[] floats, String source) {
        this(name, shape, floats, source, DType.F32);
    }

    /**
     * Trusted constructor for an F32 tensor whose elements were read straight into {@code floats},
     * converted from {@code storedAs} (F32, F16, BF16 or F64).
     */
    Tensor(String name, long[] shape, float[] floats, String source, DType storedAs) {
        this.name = name;
        this.dtype = DType.F32;
        this.shape = shape;
        this.data = null;
        this.floats = floats;
        this.storedAs = storedAs;
        this.source = source;
    }

    /**
     * A tensor of any dtype from its raw little-endian bytes, which are copied.
     *
     * @throws IllegalArgumentException naming the tensor if a dimension is negative or above
     *     {@code 2^31-1}, the element count overflows, or {@code data} is not exactly
     *     {@code elementCount * dtype.byteSize()} bytes; or if the name is not valid Unicode
     */
    public static Tensor of(String name, DType dtype, long[] shape, byte[] data) {
        checkShape(name, shape, dtype, data.length / (long) dtype.byteSize(), data.length % dtype.byteSize() == 0,
                data.length + " bytes");
        return new Tensor(name, dtype, shape.clone(), data.clone(), IN_MEMORY);
    }

    static Tensor ofF32(String name, long[] shape, float[] values) {
        checkShape(name, shape, DType.F32, values.length, true, values.length + " values");
        ByteBuffer bytes = buffer(values.length, DType.F32);
        bytes.asFloatBuffer().put(values);
        return new Tensor(name, DType.F32, shape.clone(), bytes.array(), IN_MEMORY);
    }

    /** An F32 tensor over {@code values} itself, not a copy: see {@link SafeTensors.Builder#putF32View}. */
    static Tensor viewF32(String name, long[] shape, float[] values) {
        checkShape(name, shape, DType.F32, values.length, true, values.length + " values");
        return new Tensor(name, shape.clone(), values, IN_MEMORY);
    }

    static Tensor ofI32(String name, long[] shape, int[] values) {
        checkShape(name, shape, DType.I32, values.length, true, values.length + " values");
        ByteBuffer bytes = buffer(values.length, DType.I32);
        bytes.asIntBuffer().put(values);
        return new Tensor(name, DType.I32, shape.clone(), bytes.array(), IN_MEMORY);
    }

    static Tensor ofI64(String name, long[] shape, long[] values) {
        checkShape(name, shape, DType.I64, values.length, true, values.length + " values");
        ByteBuffer bytes = buffer(values.length, DType.I64);
        bytes.asLongBuffer().put(values);
        return new Tensor(name, DType.I64, shape.clone(), bytes.array(), IN_MEMORY);
    }

    /** The name, which is its key in the header. */
    public String name() {
        return name;
    }

    /** The element type. */
    public DType dtype() {
        return dtype;
    }

    /**
     * The element type in the file it was read from: {@link #dtype()}, except for a tensor that
     * {@link SafeTensors#readAsF32} converted from F16, BF16 or F64 (whose {@code dtype()} is F32).
     * Not part of {@link #equals}.
     */
    public DType storedAs() {
        return storedAs;
    }

    /** A copy of the shape; empty for a scalar. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions; 0 for a scalar. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; dimensions never exceed {@code 2^31-1}. */
    public int dim(int i) {
        return (int) shape[Objects.checkIndex(i, shape.length)];
    }

    /** Product of the dimensions: 1 for a scalar, 0 if any dimension is 0. */
    public long elementCount() {
        return elementCount(shape);
    }

    /** Size of the data in bytes, as {@link #dtype()} (a tensor of floats may exceed 2 GiB). */
    public long byteSize() {
        return data != null ? data.length : (long) floats.length * Float.BYTES;
    }

    /**
     * A copy of the raw little-endian element bytes.
     *
     * @throws IllegalStateException for a tensor of floats of 2 GiB or more, which no byte array holds
     */
    public byte[] rawData() {
        return data != null ? data.clone() : data();
    }

    /**
     * The elements as floats: those of an {@link DType#F32} tensor bit for bit (NaN payloads
     * included); those of an {@link DType#F16} or {@link DType#BF16} tensor converted exactly
     * (subnormals, signed zeros, infinities; NaN stays NaN); those of an {@link DType#F64} tensor
     * rounded to the nearest float (see {@code FloatFormats}). NaN and infinite values are returned
     * as they are: refusing them is the caller's policy.
     *
     * @throws SafeTensorsException for an integer or boolean dtype, or naming the flat index of a
     *     finite F64 value beyond the float range
     */
    public float[] toFloatArray() throws SafeTensorsException {
        if (dtype != DType.F32 && !FloatFormats.converts(dtype)) {
            throw wrongDtype("F32, F16, BF16 or F64");
        }
        if (floats != null) {
            return floats.clone();
        }
        float[] out = new float[data.length / dtype.byteSize()];
        int overflow = FloatFormats.decode(wrap(), dtype, out, 0, out.length);
        if (overflow >= 0) {
            throw f64Overflow(source, name, wrap().getDouble(overflow * Double.BYTES), overflow);
        }
        return out;
    }

    /** The error for a finite F64 value that no float can hold. */
    static SafeTensorsException f64Overflow(String source, String name, double value, long index) {
        return new SafeTensorsException(String.format("%s: tensor %s (F64) value %s at flat index %d is beyond the F32 range"
                + " (largest magnitude %s): it cannot be converted to F32", source, HeaderJson.quote(name), value, index,
                Float.MAX_VALUE));
    }

    /**
     * As {@link #toFloatArray()}, but without a copy when the tensor was read straight into floats:
     * for loaders in this package that adopt the array and drop the tensor.
     */
    float[] floatsShared() throws SafeTensorsException {
        return floats != null ? floats : toFloatArray();
    }

    /**
     * The elements of an {@link DType#I32} or {@link DType#I64} tensor as ints, as class labels are
     * commonly stored either way.
     *
     * @throws SafeTensorsException for another dtype, or naming the flat index of an I64 value
     *     outside int range
     */
    public int[] labelsAsInts() throws SafeTensorsException {
        if (dtype != DType.I32 && dtype != DType.I64) {
            throw wrongDtype("I32 or I64");
        }
        ByteBuffer bytes = wrap();
        int[] out = new int[bytes.capacity() / dtype.byteSize()];
        if (dtype == DType.I32) {
            bytes.asIntBuffer().get(out);
            return out;
        }
        for (int i = 0; i < out.length; i++) {
            long v = bytes.getLong(i * Long.BYTES);
            if (v != (int) v) {
                throw new SafeTensorsException(String.format("%s: tensor %s (I64) value %d at flat index %d is outside int range",
                        source, HeaderJson.quote(name), v, i));
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** The bytes themselves, for the writer; callers must not modify them. */
    byte[] data() {
        if (data != null) {
            return data;
        }
        if ((long) floats.length * Float.BYTES > MAX_DATA_BYTES) {
            throw new IllegalStateException("tensor " + HeaderJson.quote(name) + " holds " + floats.length
                    + " floats, more than a byte array can hold");
        }
        ByteBuffer b = buffer(floats.length, DType.F32);
        b.asFloatBuffer().put(floats);
        return b.array();
    }

    /** Writes the element bytes to {@code out}, a tensor of floats through a small buffer (it may exceed 2 GiB). */
    void writeData(OutputStream out) throws IOException {
        if (data != null) {
            out.write(data);
            return;
        }
        final int chunk = 1 << 14;
        ByteBuffer b = ByteBuffer.allocate(chunk * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < floats.length; done += chunk) {
            int n = Math.min(chunk, floats.length - done);
            b.clear();
            b.asFloatBuffer().put(floats, done, n);
            out.write(b.array(), 0, n * Float.BYTES);
        }
    }

    /**
     * Equal when name, dtype, shape and bytes are equal; the file a tensor came from, and the dtype
     * it was converted from, do not count.
     */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Tensor t) || !name.equals(t.name) || dtype != t.dtype || !Arrays.equals(shape, t.shape)) {
            return false;
        }
        if (floats != null && t.floats != null) {
            // Bit for bit, as the bytes would compare (NaN payloads included), without building them.
            if (floats.length != t.floats.length) {
                return false;
            }
            for (int i = 0; i < floats.length; i++) {
                if (Float.floatToRawIntBits(floats[i]) != Float.floatToRawIntBits(t.floats[i])) {
                    return false;
                }
            }
            return true;
        }
        return Arrays.equals(data(), t.data());
    }

    @Override
    public int hashCode() {
        int h = Objects.hash(name, dtype, Arrays.hashCode(shape));
        if (floats != null) {
            for (float f : floats) {
                h = 31 * h + Float.floatToRawIntBits(f);
            }
            return h;
        }
        // The same value for the same elements, whether held as bytes or as floats.
        ByteBuffer b = wrap();
        if (dtype == DType.F32) {
            for (int i = 0; i < data.length / Float.BYTES; i++) {
                h = 31 * h + b.getInt(i * Float.BYTES);
            }
            return h;
        }
        return 31 * h + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "Tensor[" + name + ", " + dtype + (storedAs != dtype ? " (from " + storedAs + ")" : "") + ", "
                + Arrays.toString(shape) + "]";
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static void checkShape(String name, long[] shape, DType dtype, long count, boolean whole, String got) {
        Objects.requireNonNull(name, "name");
        checkUnicode(name, "tensor name");
        if (name.equals(Header.METADATA_KEY)) {
            throw new IllegalArgumentException("tensor name " + Header.METADATA_KEY + " is reserved for metadata");
        }
        String what = "tensor " + HeaderJson.quote(name);
        for (long d : shape) {
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(what + ": shape " + Arrays.toString(shape)
                        + " has a dimension outside [0, 2^31-1]");
            }
        }
        long expected;
        try {
            expected = elementCount(shape);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(what + ": element count of shape " + Arrays.toString(shape) + " overflows");
        }
        if (!whole || expected != count) {
            throw new IllegalArgumentException(String.format("%s: shape %s needs %d %s elements, got %s",
                    what, Arrays.toString(shape), expected, dtype, got));
        }
        if (expected * dtype.byteSize() > MAX_DATA_BYTES) {
            throw new IllegalArgumentException(what + ": " + expected * dtype.byteSize()
                    + " bytes of data, above the 2 GiB limit");
        }
    }

    /** Unpaired surrogates cannot be written as UTF-8; Java would silently write '?' instead. */
    static void checkUnicode(String s, String what) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException(what + " " + HeaderJson.quote(s) + " has an unpaired surrogate at index " + i);
            }
        }
    }

    private SafeTensorsException wrongDtype(String expected) {
        return new SafeTensorsException(String.format("%s: tensor %s has dtype %s, expected %s",
                source, HeaderJson.quote(name), dtype, expected));
    }

    private ByteBuffer wrap() {
        return ByteBuffer.wrap(data()).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer buffer(int count, DType dtype) {
        return ByteBuffer.allocate(count * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    }
}
