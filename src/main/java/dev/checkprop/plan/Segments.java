package dev.checkprop.plan;

/**
 * The segments (i, j] of a {@link Chain} as the byte-budget dynamic programs ({@link SlotDp},
 * {@link SlideDp}) read them: the sizes b(l), 1-based with b(0) = 0 (a<sup>0</sup> is not counted),
 * the cost adv(i, k) of the advance {@code F i+1 .. F k} from prefix sums, and the peak P(i, k) of that
 * advance; and {@link #INF}, the one infinite cost of every program in this package.
 */
final class Segments {

    /** Infinite cost: no plan; three of these still add without overflow. */
    static final long INF = Long.MAX_VALUE / 4;

    /** b(l) for 0 &le; l &le; L, b(0) = 0: the chain's own array, not to be written. */
    final long[] bytes;
    private final long[] prefix;

    Segments(Chain chain) {
        final int layers = chain.layers();
        final long[] c = chain.costArray();
        this.bytes = chain.bytesArray();
        this.prefix = new long[layers + 1];
        for (int l = 1; l <= layers; l++) {
            prefix[l] = prefix[l - 1] + c[l];
        }
    }

    /** adv(i, k): the cost of {@code F i+1 .. F k}, cost(i+1) + &hellip; + cost(k). */
    long adv(int i, int k) {
        return prefix[k] - prefix[i];
    }

    /**
     * Answers P(i, k), the peak bytes of the advance {@code F i+1 .. F k} without a<sup>i</sup>
     * (b(i+1), then b(t-1) + b(t) for i+2 &le; t &le; k), given {@code peak} = P(i, k-1) (anything
     * for k = i + 1): what the programs' loops over k carry along.
     */
    static long nextPeak(long[] b, int i, int k, long peak) {
        return k == i + 1 ? b[k] : Math.max(peak, b[k - 1] + b[k]);
    }
}
