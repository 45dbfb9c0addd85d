package dev.checkprop.plan;

import java.util.Arrays;
import java.util.Locale;

/**
 * What a planner may know about a chain of L layers beyond its length: for each layer l
 * (1 &le; l &le; L), the bytes one buffer holding a<sup>l</sup> occupies and the cost of one forward
 * evaluation of the layer. Immutable.
 *
 * <p>Both numbers come from the caller, who knows the element type, the batch, the array header and
 * the alignment; planners never guess them. The cost is any positive weight, typically the layer's
 * flops 2&middot;N&middot;n<sub>l</sub>&middot;n<sub>l-1</sub> for a dense layer of width n<sub>l</sub>
 * on a batch of N. The input a<sup>0</sup> is the caller's and is never counted, so it has no entry.
 *
 * <p>{@link #uniform(int)} (one byte and one unit of cost per layer) is the count model of
 * {@link Plan}: peak bytes are then peak live buffers and total cost is forward evaluations.
 */
public final class Chain {

    /**
     * The largest {@code L·Σ cost} accepted: every plan a planner builds evaluates each layer at most
     * about 2L times, so its cost stays well below the planners' "infeasible" sentinel (2<sup>61</sup>).
     */
    static final long MAX_COST_WEIGHT = 1L << 59;

    private final long[] bytes; // index l for layer l; index 0 (a^0) is 0
    private final long[] cost;   // index l for layer l; index 0 unused (0)
    private final long totalBytes;
    private final long totalCost;

    private Chain(long[] bytes, long[] cost) {
        this.bytes = bytes;
        this.cost = cost;
        final int layers = bytes.length - 1;
        long tb = 0;
        long tc = 0;
        for (int l = 1; l <= layers; l++) {
            tb = Math.addExact(tb, bytes[l]);
            tc = Math.addExact(tc, cost[l]);
        }
        if (tc > MAX_COST_WEIGHT / layers) {
            throw new IllegalArgumentException("chain costs too large: L * sum of costs = " + layers + " * " + tc
                    + " exceeds 2^59; scale the costs down (only their ratios matter)");
        }
        this.totalBytes = tb;
        this.totalCost = tc;
    }

    /**
     * Answers the count model: {@code layers} layers of 1 byte and cost 1 each.
     *
     * @throws IllegalArgumentException if {@code layers < 1}
     */
    public static Chain uniform(int layers) {
        return uniform(layers, 1, 1);
    }

    /**
     * Answers {@code layers} identical layers.
     *
     * @param bytes bytes of one activation buffer, positive
     * @param cost  cost of one forward evaluation, positive
     * @throws IllegalArgumentException if {@code layers < 1} or a value is not positive
     */
    public static Chain uniform(int layers, long bytes, long cost) {
        checkLayers(layers);
        long[] b = new long[layers];
        long[] c = new long[layers];
        Arrays.fill(b, bytes);
        Arrays.fill(c, cost);
        return of(b, c);
    }

    /**
     * Answers the chain with the given sizes and costs, <em>0-based</em>: element {@code l - 1}
     * describes layer l, so both arrays have length L. The arrays are copied.
     *
     * @param bytes bytes of the buffer holding a<sup>l</sup>, each positive
     * @param cost  cost of one forward evaluation of layer l, each positive
     * @throws IllegalArgumentException if the lengths differ, L &lt; 1, a value is not positive, the
     *                                  total bytes overflow a long, or L&middot;&Sigma;cost exceeds 2<sup>59</sup>
     */
    public static Chain of(long[] bytes, long[] cost) {
        if (bytes.length != cost.length) {
            throw new IllegalArgumentException("chain: " + bytes.length + " sizes but " + cost.length + " costs");
        }
        checkLayers(bytes.length);
        final int layers = bytes.length;
        long[] b = new long[layers + 1];
        long[] c = new long[layers + 1];
        for (int l = 1; l <= layers; l++) {
            if (bytes[l - 1] <= 0) {
                throw new IllegalArgumentException("chain: bytes of layer " + l + " must be positive, got " + bytes[l - 1]);
            }
            if (cost[l - 1] <= 0) {
                throw new IllegalArgumentException("chain: cost of layer " + l + " must be positive, got " + cost[l - 1]);
            }
            b[l] = bytes[l - 1];
            c[l] = cost[l - 1];
        }
        try {
            return new Chain(b, c);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("chain: total bytes or cost overflow a long", e);
        }
    }

    private static void checkLayers(int layers) {
        if (layers < 1) {
            throw new IllegalArgumentException("a plan needs at least 1 layer, got " + layers);
        }
    }

    /** Answers L. */
    public int layers() {
        return bytes.length - 1;
    }

    /** Answers the bytes of the buffer holding a<sup>l</sup>, 1 &le; l &le; L. */
    public long bytes(int l) {
        check(l);
        return bytes[l];
    }

    /** Answers the cost of one forward evaluation of layer l, 1 &le; l &le; L. */
    public long cost(int l) {
        check(l);
        return cost[l];
    }

    /** Answers &Sigma; bytes(l): the peak of full storage. */
    public long totalBytes() {
        return totalBytes;
    }

    /** Answers &Sigma; cost(l): the cost of full storage, a lower bound for every plan. */
    public long totalCost() {
        return totalCost;
    }

    /**
     * Answers the smallest budget in bytes under which the chain can be backpropagated at all:
     * bytes(1) for L = 1, otherwise max(bytes(1), max over 2 &le; l &le; L of bytes(l-1) + bytes(l)).
     *
     * <p>Why: {@code F l} and {@code B l} (l &ge; 2) both need a<sup>l-1</sup> and a<sup>l</sup> live, and
     * every plan performs both, so no budget below the largest adjacent pair can do. The
     * minimum-memory plan, which for each l = L..1 recomputes a<sup>1</sup>..a<sup>l</sup> from
     * a<sup>0</sup> holding only the last two, reaches exactly this peak.
     */
    public long minBudget() {
        long min = bytes[1];
        for (int l = 2; l < bytes.length; l++) {
            min = Math.max(min, bytes[l - 1] + bytes[l]);
        }
        return min;
    }

    /** Whether every layer has the same bytes and the same cost. */
    public boolean isUniform() {
        for (int l = 2; l < bytes.length; l++) {
            if (bytes[l] != bytes[1] || cost[l] != cost[1]) {
                return false;
            }
        }
        return true;
    }

    /** The internal 1-based arrays, index 0 being a<sup>0</sup> (0 bytes): for the planners, not to be written. */
    long[] bytesArray() {
        return bytes;
    }

    long[] costArray() {
        return cost;
    }

    /** Answers a chain with the same sizes and every cost 1: the count of forward evaluations as cost. */
    Chain withUnitCosts() {
        long[] c = new long[cost.length];
        Arrays.fill(c, 1, c.length, 1);
        return new Chain(bytes, c);
    }

    /** Answers a chain with the same costs and every size 1: buffers as bytes. */
    Chain withUnitBytes() {
        long[] b = new long[bytes.length];
        Arrays.fill(b, 1, b.length, 1);
        return new Chain(b, cost);
    }

    private void check(int l) {
        if (l < 1 || l >= bytes.length) {
            throw new IndexOutOfBoundsException("layer " + l + " outside 1.." + layers());
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Chain c && Arrays.equals(c.bytes, bytes) && Arrays.equals(c.cost, cost);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(bytes) + Arrays.hashCode(cost);
    }

    /** Answers e.g. {@code Chain[L=3, bytes=[4096, 8192, 4096], cost=[10, 20, 10]]}, elided past 16 layers. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "Chain[L=%d, bytes=%s, cost=%s]", layers(), list(bytes), list(cost));
    }

    private static String list(long[] v) {
        final int n = v.length - 1;
        StringBuilder sb = new StringBuilder("[");
        for (int l = 1; l <= n; l++) {
            if (n > 16 && l > 8 && l <= n - 8) {
                continue; // elided: only the first and last eight layers are printed
            }
            if (l > 1) {
                sb.append(n > 16 && l == n - 7 ? ", ..., " : ", ");
            }
            sb.append(v[l]);
        }
        return sb.append(']').toString();
    }
}
