package dev.checkprop.kernel;

/**
 * Subnormal (denormal) floats, and the library's choice to flush them to zero.
 *
 * <p>A float whose magnitude is below {@link Float#MIN_NORMAL} (about 1.18e-38) is subnormal. Intel
 * cores take a microcode assist for every arithmetic operation that reads or produces one, about a
 * hundred times the cost of a normal FMA; the gradients of very deep networks, which vanish layer
 * after layer, pass through that range for many layers. Hardware offers FTZ/DAZ modes for this
 * ({@code torch.set_flush_denormal(True)} turns them on); the JVM does not expose them, so the
 * kernels flush in software: every stored result of a product, an activation, an activation's
 * backward step (GELU's curvature term included) and a bias gradient that is subnormal is replaced
 * by a zero of the same sign. Inputs
 * are not flushed (a subnormal weight or datum stays as it is), but no result the kernels write is
 * subnormal, so the next operations see none.
 *
 * <p>Flushing is part of each element's operation, done with integer operations on the bits in the
 * same way on the vector and scalar paths, so every plan and every thread count still gives the
 * same bits. It is on by default; strict IEEE 754 (subnormals kept) is
 * {@code DenseKernels.withSubnormals(false)}, or {@code -Dcheckprop.subnormals=keep} for the JVM's
 * default kernels. What it changes numerically is in docs/speed.md: a result below 1.18e-38 in
 * magnitude becomes 0, an absolute change of less than 1.18e-38; a relative error of 100% for that
 * element, where strict IEEE keeps from 1 to 23 bits of it.
 */
public final class Subnormals {

    /** The bits of {@link Float#MIN_NORMAL}: a magnitude whose bits are below this is subnormal (or zero). */
    public static final int MIN_NORMAL_BITS = 0x00800000;

    /** The system property that chooses the default: {@code flush} (the default) or {@code keep}. */
    public static final String PROPERTY = "checkprop.subnormals";

    private Subnormals() {
    }

    /** {@code x}, or a zero of {@code x}'s sign if {@code x} is subnormal. NaN and infinities pass. */
    public static float flush(float x) {
        final int bits = Float.floatToRawIntBits(x);
        return (bits & 0x7fffffff) < MIN_NORMAL_BITS ? Float.intBitsToFloat(bits & 0x80000000) : x;
    }

    /**
     * Whether the JVM's default kernels flush: {@code true} unless the property {@value #PROPERTY}
     * is {@code keep}.
     *
     * @throws IllegalArgumentException if the property has another value than {@code flush} or {@code keep}
     */
    public static boolean flushByDefault() {
        final String v = System.getProperty(PROPERTY, "flush");
        switch (v) {
            case "flush":
                return true;
            case "keep":
                return false;
            default:
                throw new IllegalArgumentException("-D" + PROPERTY + " must be flush or keep, got '" + v + "'");
        }
    }
}
