package dev.checkprop.memory;

import java.util.Locale;

/**
 * Checks made before something large is allocated, so that a problem too big for this JVM is refused
 * with its figures instead of ending in an {@link OutOfMemoryError} part-way through. Each check
 * compares an estimate with {@link HeapBudget#usable()} and names both, and the option a user can
 * change.
 */
public final class Preflight {

    /** The largest Java array HotSpot reliably allocates, in elements. */
    public static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /** Bytes a layer costs besides its arrays: the layer object, its list slot, per-layer bookkeeping. */
    static final long PER_LAYER_BYTES = 256;

    private Preflight() {
    }

    /**
     * Checks that a chain {@code in -> width}, then {@code repeats} layers {@code width -> width},
     * then {@code width -> out} (the shape {@code train} and {@code init} build) can be held with
     * {@code copies} float copies of its parameters (weights, gradients, optimizer state).
     *
     * @param what names the options that fixed the shape, for the message
     * @throws IllegalArgumentException if one layer's weights exceed a Java array
     * @throws IllegalStateException    if the copies exceed the usable heap
     */
    public static void chain(String what, long in, long width, long repeats, long out, int copies) {
        arrayLength(what + ": a layer of " + width + " x " + in + " weights", in * width);
        arrayLength(what + ": a layer of " + width + " x " + width + " weights", repeats > 0 ? width * width : 0);
        arrayLength(what + ": a layer of " + out + " x " + width + " weights", out * width);
        double params = (double) in * width + width + (double) repeats * (width * width + width) + (double) out * width + out;
        double bytes = params * 4 * copies + (repeats + 2) * (double) PER_LAYER_BYTES * copies;
        heap(what + ": " + String.format(Locale.ROOT, "%.0f", params) + " parameters, " + copies
                + " copies (weights, gradients, optimizer state)", bytes);
    }

    /**
     * Checks that {@code samples} samples of {@code floatsPerSample} floats fit {@code copies} times
     * (a dataset, its training and held-out split, and the batcher's copy).
     */
    public static void dataset(String what, long samples, long floatsPerSample, int copies) {
        arrayLength(what + ": " + samples + " samples of " + floatsPerSample + " values", samples * floatsPerSample);
        heap(what + ": " + samples + " samples of " + floatsPerSample + " values, " + copies + " copies",
                (double) samples * floatsPerSample * 4 * copies);
    }

    /**
     * Refuses an array of {@code elements} (computed in long arithmetic, or negative after an
     * overflow) that no Java array can hold.
     */
    public static void arrayLength(String what, long elements) {
        if (elements < 0 || elements > MAX_ARRAY) {
            throw new IllegalArgumentException(what + " is " + (elements < 0 ? "more than 2^63" : Long.toString(elements))
                    + " elements, more than a Java array holds (" + MAX_ARRAY + ")");
        }
    }

    /**
     * Refuses {@code bytes} (a double, so that products of large options cannot overflow) that the
     * usable heap cannot give.
     *
     * @throws IllegalStateException naming both sizes
     */
    public static void heap(String what, double bytes) {
        heap(what, bytes, "make the problem smaller or give a larger -Xmx");
    }

    /** As {@link #heap(String, double)}, with {@code hint} saying what the user can do. */
    public static void heap(String what, double bytes, String hint) {
        long usable = HeapBudget.usable();
        if (bytes > usable) {
            throw new IllegalStateException(what + " need " + human(bytes) + " of heap but this JVM can give "
                    + HeapBudget.human(usable) + " (-Xmx " + HeapBudget.human(Runtime.getRuntime().maxMemory())
                    + " less a " + HeapBudget.MARGIN_FRACTION_PERCENT + "% + " + HeapBudget.MARGIN_FIXED_MIB
                    + " MiB margin); " + hint);
        }
    }

    private static String human(double bytes) {
        return bytes >= Long.MAX_VALUE ? String.format(Locale.ROOT, "%.3g bytes", bytes) : HeapBudget.human((long) bytes);
    }
}
