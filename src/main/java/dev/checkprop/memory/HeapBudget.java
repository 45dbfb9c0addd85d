package dev.checkprop.memory;

import dev.checkprop.plan.Planners;

import java.util.Locale;

/**
 * What the JVM can give a gradient computation, and the pre-flight check against it.
 *
 * <p>The heap limit is {@link Runtime#maxMemory()} (what {@code -Xmx} sets). A safety margin is kept
 * back for what the accounting does not cover — class metadata on the heap, the JIT's and the
 * command line's own objects, the garbage collector's need for headroom: {@value #MARGIN_FRACTION_PERCENT}%
 * of the heap plus {@value #MARGIN_FIXED_MIB} MiB. A plan whose predicted total exceeds the rest is
 * refused before anything is allocated, with a message that names both figures, rather than failing
 * later with an {@link OutOfMemoryError}. Predictions checked against the heap should be made with
 * {@link ArrayLayout#heapFootprint()}, which counts G1's humongous arrays at the regions they occupy.
 */
public final class HeapBudget {

    /** The share of the heap kept back, in percent. */
    public static final int MARGIN_FRACTION_PERCENT = 20;
    /** The fixed part of the margin, in MiB. */
    public static final int MARGIN_FIXED_MIB = 32;

    private HeapBudget() {
    }

    /** Answers the safety margin for a heap of {@code maxHeap} bytes. */
    public static long margin(long maxHeap) {
        return maxHeap / 100 * MARGIN_FRACTION_PERCENT + MARGIN_FIXED_MIB * 1024L * 1024L;
    }

    /** Answers the bytes a computation may use in this JVM: the heap limit less the margin. */
    public static long usable() {
        long max = Runtime.getRuntime().maxMemory();
        return Math.max(0, max - margin(max));
    }

    /**
     * Refuses a prediction that does not fit the heap.
     *
     * @throws IllegalStateException naming the plan, its predicted total and activations, and the usable heap
     */
    public static void check(String planName, MemoryModel.Prediction p) {
        long usable = usable();
        if (p.total() > usable) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "plan %s needs %s of heap (activations %s, parameters and gradients %s) but this JVM can give %s"
                            + " (-Xmx %s less a %d%% + %d MiB margin); use --plan auto, a budget:BYTES plan, or a larger -Xmx",
                    planName, human(p.total()), human(p.bytes(MemoryCategory.ACTIVATIONS)),
                    human(p.bytes(MemoryCategory.PARAMETERS) + p.bytes(MemoryCategory.GRADIENTS)), human(usable),
                    human(Runtime.getRuntime().maxMemory()), MARGIN_FRACTION_PERCENT, MARGIN_FIXED_MIB));
        }
    }

    /** Answers a byte count in binary units, e.g. {@code 1.3 GiB} (as {@link Planners#humanBytes}). */
    public static String human(long bytes) {
        return Planners.humanBytes(bytes);
    }
}
