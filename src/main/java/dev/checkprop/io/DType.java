package dev.checkprop.io;

import java.util.Optional;

/**
 * Element types this library reads from safetensors files, named exactly as the format's
 * {@code "dtype"} strings. All are stored little-endian; {@link #BOOL} is one byte per element.
 *
 * <p>The declaration order is the reference implementation's "increasing alignment" order; the
 * writer lays tensors out in the reverse of it (then by name), as the reference does, so that every
 * tensor starts at an offset that is a multiple of its element size.
 */
public enum DType {
    /** One byte per element, 0 or 1. */
    BOOL(1),
    /** Unsigned 8-bit integer. */
    U8(1),
    /** Signed 8-bit integer. */
    I8(1),
    /** Signed 16-bit integer. */
    I16(2),
    /** IEEE 754 half precision. */
    F16(2),
    /** bfloat16: the upper half of an F32. */
    BF16(2),
    /** Signed 32-bit integer. */
    I32(4),
    /** IEEE 754 single precision. */
    F32(4),
    /** IEEE 754 double precision. */
    F64(8),
    /** Signed 64-bit integer. */
    I64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype spelled {@code name} in a header, or empty for dtypes this library does not read. */
    public static Optional<DType> fromName(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }
}
