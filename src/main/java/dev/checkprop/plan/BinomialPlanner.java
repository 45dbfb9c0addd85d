package dev.checkprop.plan;

import it.unimi.dsi.fastutil.ints.IntArrayList;

/**
 * Binomial checkpointing with S snapshots, the caller's input a<sup>0</sup> counting as one of them:
 * the schedule of Revolve,
 * <pre>
 *   A. Griewank and A. Walther, "Algorithm 799: Revolve: An Implementation of Checkpointing for the
 *   Reverse or Adjoint Mode of Computational Differentiation",
 *   ACM Transactions on Mathematical Software 26(1), 19-45, 2000.
 * </pre>
 * translated action by action into this library's memory model. Revolve's <em>advance</em> from
 * x<sub>i</sub> to x<sub>j</sub> is {@code F i+1 .. F j}, dropping each intermediate (never a snapshot);
 * <em>takeshot</em> keeps the current buffer; <em>restore</em> continues from a kept one; the reversal
 * of step i (Revolve's <em>firsturn</em>/<em>youturn</em>: one taped step, then the adjoint step) is
 * {@code F i [LOSS] B i D i}, after which a<sup>i-1</sup> is dropped when Revolve frees it.
 *
 * <p>Forward evaluations: exactly {@code L + t(L,S)}, where t(L,S) = r&middot;L &minus; C(S+r, S+1)
 * is Revolve's minimal number of untaped steps and r, the repetition number, is the smallest integer
 * with C(S+r, S) &ge; L. Revolve charges the taped step of every reversal separately, so even with
 * S &ge; L this planner spends 2L &minus; 1 evaluations; {@link OptimalPlanner} does not, because in
 * this model a stored activation is already the tape of its layer. Peak live buffers: at most S + 1
 * (S &minus; 1 snapshots besides a<sup>0</sup>, plus the two buffers of an advance or a reversal).
 *
 * <p>Planning is iterative (an explicit stack of at most S + 1 kept buffers, no recursion) and takes
 * time proportional to the plan: O(L&middot;(r+1)).
 */
public final class BinomialPlanner implements Planner {

    /** The most actions a plan can hold: its actions live in arrays. */
    static final long MAX_ACTIONS = Plan.MAX_ACTIONS;

    private final int snapshots;

    /**
     * @param s the number of snapshots S, a<sup>0</sup> included; at least 1
     */
    public BinomialPlanner(int s) {
        if (s < 1) {
            throw new IllegalArgumentException("binomial:S needs S >= 1, got " + s);
        }
        this.snapshots = s;
    }

    /** Answers S, the number of snapshots including a<sup>0</sup>. */
    public int snapshots() {
        return snapshots;
    }

    /**
     * Answers Revolve's repetition number r: the smallest integer with C(S+r, S) &ge; L, i.e. the
     * most times any step is evaluated untaped.
     *
     * @throws IllegalArgumentException if {@code layers < 1} or {@code snapshots < 1}
     */
    public static int repetitions(int layers, int snapshots) {
        checkArgs(layers, snapshots);
        return repetitionsOf(layers, Math.min(snapshots, layers));
    }

    /**
     * Answers the forward evaluations of {@code binomial:S} for {@code layers} layers,
     * {@code L + r·L - C(S+r, S+1)}, without building the plan.
     *
     * @throws IllegalArgumentException if {@code layers < 1} or {@code snapshots < 1}
     */
    public static long forwardEvaluations(int layers, int snapshots) {
        checkArgs(layers, snapshots);
        final int s = Math.min(snapshots, layers);
        final int r = repetitionsOf(layers, s);
        if (r == 0) {
            return layers;
        }
        // C(S+r, S+1) = C(S+r-1, S) * (S+r) / (S+1); the first factor is below L, so no overflow.
        final long c = beta(s, r - 1) * ((long) s + r) / ((long) s + 1);
        return layers + (long) r * layers - c;
    }

    @Override
    public Plan plan(int layers) {
        final Plan.Builder b = Plan.builder(toString(), layers);
        // More snapshots than layers cannot be used; capping keeps every binomial below L.
        final int s = Math.min(snapshots, layers);
        final long evaluations = forwardEvaluations(layers, s);
        // Every F is dropped once, plus B's and LOSS: refused before the first action is built.
        Plan.checkSize(toString(), layers, evaluations, "use more snapshots (binomial:S with a larger S) or a larger -Xmx");
        // The snapshot stack: position of each kept buffer and the snapshots its segment may use
        // (itself included). Segment of the top entry: [position, end]. Revolve's recursion
        // "advance m, keep, reverse the right part with s-1, reverse the left part with s" becomes:
        // push, and when the right part is done (end reaches the position) pop.
        final IntArrayList pos = new IntArrayList();
        final IntArrayList snaps = new IntArrayList();
        pos.add(0);
        snaps.add(s);
        int end = layers;
        while (end > 0) {
            final int top = pos.size() - 1;
            final int c = pos.getInt(top);
            final int l = end - c;
            if (l == 1) {
                // Revolve's youturn: the taped step from the restored snapshot, then the adjoint step.
                b.forward(end);
                if (end == layers) {
                    b.loss();
                }
                b.backward(end);
                b.drop(end);
                end--;
                // end == c: this snapshot's segment is reversed, and Revolve frees it.
                pos.removeInt(top);
                snaps.removeInt(top);
                if (c > 0) {
                    b.drop(c);
                }
                continue;
            }
            final int sn = snaps.getInt(top);
            final int m = split(l, sn);
            advance(b, c, c + m);
            pos.add(c + m);
            // With sn == 1 the split is l - 1 and the pushed buffer only serves one youturn: it
            // is the advance's endpoint, held for one step, not a snapshot (hence 0).
            snaps.add(sn - 1);
        }
        return b.build();
    }

    /**
     * Answers where to take the next snapshot, m steps into a segment of l &ge; 2 steps reversed
     * with s snapshots, so that m + T(m, s) + T(l - m, s - 1) = T(l, s).
     *
     * <p>Why this m: T(&middot;, s) is convex and piecewise linear with slope k on
     * (&beta;(s,k-1), &beta;(s,k)], where &beta;(s,k) = C(s+k, s). The recursion's minimum over m is an
     * infimal convolution of m &rarr; m + T(m, s) and n &rarr; T(n, s-1); taking its l - 2 smallest
     * slope increments from both sides shows that every increment below r is used and l - &beta;(s,r-1)
     * increments equal to r are shared between the sides. The left side offers &beta;(s-1, r-1) of them
     * after &beta;(s, r-2) - 1 smaller ones, so the largest optimal split is
     * m = &beta;(s, r-2) + min(&beta;(s-1, r-1), l - &beta;(s, r-1)) = min(&beta;(s,r-1), &beta;(s,r-2) + l - &beta;(s,r-1))
     * (with &beta;(s, -1) = 0). For s = 1 this is l - 1, the only choice.
     */
    static int split(int l, int s) {
        if (s <= 1) {
            return l - 1;
        }
        long b1 = 1; // beta(s, k - 1)
        long b2 = 0; // beta(s, k - 2)
        int k = 0;
        while (b1 < l) {
            k++;
            b2 = b1;
            b1 = b1 * ((long) s + k) / k;
        }
        // Now b1 = beta(s, r) with r = k; step back one: we need beta(s, r-1) and beta(s, r-2).
        final long bR1 = b2;
        final long bR2 = k >= 2 ? bR1 * (k - 1) / ((long) s + k - 1) : 0;
        return (int) Math.min(bR1, bR2 + l - bR1);
    }

    /** Revolve's advance: a<sup>from</sup> live, ends with a<sup>to</sup> live and nothing between. */
    static void advance(Plan.Builder b, int from, int to) {
        for (int l = from + 1; l <= to; l++) {
            b.forward(l);
            if (l - 1 > from) {
                b.drop(l - 1);
            }
        }
    }

    /** Smallest r with C(s+r, s) &ge; l, for s &le; l. */
    private static int repetitionsOf(int l, int s) {
        long beta = 1;
        int r = 0;
        while (beta < l) {
            r++;
            beta = beta * ((long) s + r) / r; // exact: C(s+r, r) = C(s+r-1, r-1) * (s+r) / r; beta < l before
        }
        return r;
    }

    /** C(s+k, s) for values known to stay below 2^31 along the way. */
    private static long beta(int s, int k) {
        long c = 1;
        for (int j = 1; j <= k; j++) {
            c = c * ((long) s + j) / j;
        }
        return c;
    }

    private static void checkArgs(int layers, int snapshots) {
        if (layers < 1) {
            throw new IllegalArgumentException("a plan needs at least 1 layer, got " + layers);
        }
        if (snapshots < 1) {
            throw new IllegalArgumentException("binomial:S needs S >= 1, got " + snapshots);
        }
    }

    @Override
    public String toString() {
        return "binomial:" + snapshots;
    }
}
