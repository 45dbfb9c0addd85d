package dev.checkprop.plan;

import java.util.Arrays;

/**
 * The fewest forward evaluations possible with at most M live buffers, in the memory model of
 * {@link Plan}. It beats {@link BinomialPlanner} at equal memory because here a stored activation
 * is also the tape of its layer's backward: Revolve re-runs a taped step for every reversal, this
 * planner does not when the activations are already live.
 *
 * <h2>The dynamic program</h2>
 * A subproblem is a segment (i, j] of d = j - i layers whose backward pass is next: the gradient at
 * a<sup>j</sup> is available (or, for the whole chain, the loss is still to be taken), a<sup>i</sup>
 * is live and owned by the caller (it is not counted), nothing in between is live, and at most m
 * buffers of the segment may be live at once. It ends after {@code B i+1} with only a<sup>i</sup>
 * left. Nothing below i can help (reaching the segment from there would recompute the live
 * a<sup>i</sup>), so costs depend on d and m alone. An <em>advance</em> of s steps computes
 * a<sup>i+1</sup> .. a<sup>i+s</sup> keeping only the last; at its peak it holds min(2, s) buffers.
 * <ul>
 * <li>F(d, m): a<sup>j</sup> is live (and counted in m). F(1, m) = 0: {@code B j D j}. For d &ge; 2 the
 *     better of<br>
 *     F'(d, m) = min over 1 &le; s &lt; d with 1 + min(2, s) &le; m of s + F(d - s, m - 1) + F(s, m):
 *     advance to a<sup>i+s</sup> and keep it, finish the right part with one buffer fewer, then the
 *     left part, whose right end a<sup>i+s</sup> now is; and<br>
 *     N(d, m): drop a<sup>j</sup> and recompute it later (needed when memory is tight).</li>
 * <li>N(d, m): a<sup>j</sup> is not live. The better of<br>
 *     min over 1 &le; s &lt; d of s + N(d - s, m - 1) + F(s, m) (for m &ge; 2): keep a<sup>i+s</sup> on the
 *     way; and<br>
 *     d + F'(d, m) when min(2, d) &le; m: advance all the way, keeping only a<sup>j</sup> (F', not F, so
 *     that a<sup>j</sup> is not dropped again at once: this breaks the cycle between F and N).</li>
 * <li>The whole chain is N(L, M), with {@code LOSS} right after a<sup>L</sup> is first computed.</li>
 * </ul>
 * With m &ge; d the costs reach their lower bounds (F = d - 1, N = d: every activation of the
 * segment computed once), so m is clamped to d, and M to L. The minimum feasible M is 1 for L = 1
 * and 2 otherwise ({@code B L} needs a<sup>L-1</sup> and a<sup>L</sup>). The recurrences were checked
 * against an exhaustive search of the whole state space (live set, backward position, loss) for
 * every L &le; 17 and every M, and the tests repeat that check for small L.
 *
 * <h2>Cost of planning</h2>
 * Scanning every split gives O(L<sup>2</sup>&middot;M) time. The planner instead uses that
 * F(&middot;, m) and N(&middot;, m) are convex in d (observed for every L &le; 3000, M &le; 200, not
 * assumed): when both functions a split combines are convex on the range it reads, the cost is
 * convex in s and its leftmost minimum is found by bisection. Convexity is checked on the table as
 * it is filled; where it fails, that split is scanned in full, so the result is exact either way.
 * Time O(L&middot;M&middot;log L), memory two tables of (min(M, L) + 1)&middot;(L + 1) longs (at most
 * {@link DpLimits#MAX_COUNT_TABLE_ENTRIES} each). The plan is rebuilt from the tables by
 * {@link PlanEmitter}, with an explicit stack, no recursion.
 */
public final class OptimalPlanner implements Planner {

    private final int maxBuffers;

    /**
     * @param m the most live buffers M the plan may hold at once; at least 1
     */
    public OptimalPlanner(int m) {
        if (m < 1) {
            throw new IllegalArgumentException("optimal:M needs M >= 1, got " + m);
        }
        this.maxBuffers = m;
    }

    /** Answers M, the live-buffer budget. */
    public int maxBuffers() {
        return maxBuffers;
    }

    /**
     * Answers the fewest live buffers with which a chain of {@code layers} layers can be
     * backpropagated at all: 1 for a single layer, otherwise 2.
     *
     * @throws IllegalArgumentException if {@code layers < 1}
     */
    public static int minBuffers(int layers) {
        if (layers < 1) {
            throw new IllegalArgumentException("a plan needs at least 1 layer, got " + layers);
        }
        return layers == 1 ? 1 : 2;
    }

    /**
     * Answers the fewest forward evaluations of any valid plan for {@code layers} layers holding at
     * most {@code m} live buffers: what {@code new OptimalPlanner(m).plan(layers)} spends, without
     * building the plan.
     *
     * @throws IllegalArgumentException if {@code layers < 1}, {@code m < 1}, or {@code m} is below
     *                                  {@link #minBuffers(int)}
     */
    public static long minEvaluations(int layers, int m) {
        return new OptimalPlanner(m).table(layers).cost();
    }

    @Override
    public Plan plan(int layers) {
        final Table t = table(layers);
        final long cost = t.cost();
        Plan.checkSize(toString(), layers, cost, "use more buffers (optimal:M with a larger M) or a larger -Xmx");
        return t.emit(Plan.builder(toString(), layers));
    }

    /**
     * Answers the plan with the least total forward cost &Sigma; cost(l) holding at most M live
     * buffers; the chain's sizes are ignored (M counts buffers, as in {@link #plan(int)}). With equal
     * costs this is {@link #plan(int)}. With varying costs the same recurrence runs with costs in place
     * of counts (a byte budget of M with every size 1: {@link SlotDp}, exact since every quantum is one
     * buffer; persistent schedules are optimal with equal sizes, as the tests confirm against an
     * exhaustive search), or, when every cost but the first and last is equal (real networks),
     * {@link PiecewiseDp}, which is fast for any L. For other chains the general program takes
     * O(L<sup>3</sup>&middot;M) time; beyond about 6&middot;10<sup>9</sup> steps, or 2<sup>26</sup> table
     * entries, the count-based plan is returned instead, named {@code optimal:M (approx)}.
     *
     * @throws IllegalArgumentException as {@link #plan(int)}
     */
    @Override
    public Plan plan(Chain chain) {
        final int layers = chain.layers();
        final int min = minBuffers(layers);
        if (maxBuffers < min) {
            throw new IllegalArgumentException(this + " cannot serve " + layers + " layers: at least " + min
                    + " live buffers are needed");
        }
        boolean equalCosts = true;
        for (int l = 2; l <= layers; l++) {
            equalCosts &= chain.cost(l) == chain.cost(1);
        }
        final int m = Math.min(maxBuffers, layers);
        if (equalCosts || m >= layers) {
            return plan(layers); // with every layer computed once at M >= L, costs do not matter
        }
        final Chain counted = chain.withUnitBytes();
        final long[] piecewise = PiecewiseDp.estimate(counted, m);
        if (PiecewiseDp.applies(counted) && piecewise[0] <= DpLimits.MAX_PERSISTENT_TABLE_ENTRIES
                && piecewise[1] <= DpLimits.MAX_PERSISTENT_WORK) {
            return new PiecewiseDp(counted, m).emit(Plan.builder(toString(), layers));
        }
        final long[] est = SlotDp.estimate(counted, m, 1);
        if (est[0] <= DpLimits.MAX_PERSISTENT_TABLE_ENTRIES && est[1] <= DpLimits.MAX_PERSISTENT_WORK) {
            return SlotDp.solve(counted, m, 1).emit(Plan.builder(toString(), layers));
        }
        return plan(layers).renamed(this + " (approx)");
    }

    private Table table(int layers) {
        final int min = minBuffers(layers);
        if (maxBuffers < min) {
            throw new IllegalArgumentException(this + " cannot serve " + layers + " layers: at least " + min
                    + " live buffers are needed");
        }
        final int mMax = Math.min(maxBuffers, layers);
        final long entries = (long) (mMax + 1) * (layers + 1);
        if (entries > DpLimits.MAX_COUNT_TABLE_ENTRIES) {
            throw new IllegalArgumentException(this + " cannot serve " + layers + " layers: its tables would hold "
                    + entries + " entries (limit " + DpLimits.MAX_COUNT_TABLE_ENTRIES + "); use fewer buffers or binomial:S");
        }
        // Two tables of longs: refused in a heap that cannot hold them, before they are allocated.
        final long bytes = 2 * Long.BYTES * entries;
        final long room = Plan.maxActions() * Plan.BUILD_BYTES_PER_ACTION;
        if (bytes > room) {
            throw new IllegalArgumentException(this + " cannot serve " + layers + " layers in this JVM: its tables would"
                    + " need " + Planners.humanBytes(bytes) + " (" + entries + " entries) but planning may use "
                    + Planners.humanBytes(room) + " (-Xmx " + Planners.humanBytes(Runtime.getRuntime().maxMemory())
                    + "); use binomial:" + maxBuffers + ", which needs no tables, or a larger -Xmx");
        }
        return new Table(layers, mMax);
    }

    @Override
    public String toString() {
        return "optimal:" + maxBuffers;
    }

    /**
     * The filled dynamic program for one chain length; confined to the thread that plans. Also the
     * uniform part of {@link PiecewiseDp}. Its subproblems, as {@link PlanEmitter} holds them, are
     * (kind, i, d, m): the segment (i, i+d] with m buffers.
     */
    static final class Table implements PlanEmitter.Expander {
        private static final long INF = Segments.INF;

        private final int layers;
        private final int mMax;
        private final int stride;
        private final long[] f;
        private final long[] n;
        // Per m: the first d at which F(., m) (resp. N(., m)) stops being convex on [1, d].
        private final int[] fBroken;
        private final int[] nBroken;
        private int split; // argmin of the last bestKeep / bestSplitN call

        Table(int layers, int mMax) {
            this.layers = layers;
            this.mMax = mMax;
            this.stride = layers + 1;
            final int size = (mMax + 1) * stride;
            this.f = new long[size];
            this.n = new long[size];
            this.fBroken = new int[mMax + 1];
            this.nBroken = new int[mMax + 1];
            Arrays.fill(f, 0, stride, INF);
            Arrays.fill(n, 0, stride, INF);
            Arrays.fill(fBroken, Integer.MAX_VALUE);
            Arrays.fill(nBroken, Integer.MAX_VALUE);
            fBroken[0] = 0;
            nBroken[0] = 0;
            // Row by row: row m reads row m - 1 (complete) and its own prefix.
            for (int m = 1; m <= mMax; m++) {
                final int row = m * stride;
                for (int d = 1; d <= layers; d++) {
                    if (d < m) {
                        // Enough memory to keep the whole segment: row d already holds the bound.
                        f[row + d] = f[d * stride + d];
                        n[row + d] = n[d * stride + d];
                    } else {
                        final long keep = bestKeep(d, m);
                        final long nv = Math.min(bestSplitN(d, m), advanceAll(d, m, keep));
                        n[row + d] = nv;
                        f[row + d] = Math.min(keep, nv);
                    }
                    if (d >= 3) {
                        if (fBroken[m] == Integer.MAX_VALUE && !convexAt(f, row + d)) {
                            fBroken[m] = d;
                        }
                        if (nBroken[m] == Integer.MAX_VALUE && !convexAt(n, row + d)) {
                            nBroken[m] = d;
                        }
                    }
                }
            }
        }

        /** Whether v[k-2], v[k-1], v[k] are finite with a nondecreasing difference. */
        private static boolean convexAt(long[] v, int k) {
            final long a = v[k - 2];
            final long b = v[k - 1];
            final long c = v[k];
            return a < INF && b < INF && c < INF && c - b >= b - a;
        }

        long cost() {
            return n[mMax * stride + layers];
        }

        /** N(d, m) for 1 &le; d &le; layers; m is clamped to [0, mMax] (m &le; 0: infeasible). */
        long n(int d, int m) {
            return n[Math.max(0, Math.min(m, mMax)) * stride + d];
        }

        /** F(d, m) for 1 &le; d &le; layers; m is clamped to [0, mMax] (m &le; 0: infeasible). */
        long f(int d, int m) {
            return f[Math.max(0, Math.min(m, mMax)) * stride + d];
        }

        /** F'(d, m); sets {@link #split} (0 for d = 1). */
        long bestKeep(int d, int m) {
            split = 0;
            if (d == 1) {
                return 0;
            }
            if (m < 2) {
                return INF;
            }
            // The advance holds a^j plus min(2, s) buffers: m = 2 allows s = 1 only.
            final int hi = m == 2 ? 1 : d - 1;
            final boolean convex = m >= 3 && d - 1 < fBroken[m - 1] && d - 1 < fBroken[m];
            return minimize(f, m - 1, f, m, d, hi, convex);
        }

        /** The split option of N(d, m); sets {@link #split}. */
        long bestSplitN(int d, int m) {
            split = 0;
            if (d == 1 || m < 2) {
                return INF;
            }
            final boolean convex = m >= 3 && d - 1 < nBroken[m - 1] && d - 1 < fBroken[m];
            return minimize(n, m - 1, f, m, d, d - 1, convex);
        }

        /** The option of N(d, m) that advances to a^j keeping nothing else, given F'(d, m). */
        private static long advanceAll(int d, int m, long keep) {
            return Math.min(2, d) <= m && keep < INF ? d + keep : INF;
        }

        /**
         * Minimizes g(s) = s + right[d - s, mr] + left[s, ml] over 1 &le; s &le; hi, returning the
         * leftmost minimum, found by bisection when g is known to be convex and by a scan otherwise
         * (both give the same s).
         */
        private long minimize(long[] right, int mr, long[] left, int ml, int d, int hi, boolean convex) {
            final int r0 = mr * stride + d; // right[d - s, mr] = right[r0 - s]
            final int l0 = ml * stride;     // left[s, ml] = left[l0 + s]
            if (mr == 1) {
                // Row 1 is infeasible (INF) for every segment of 2 or more layers, since B needs two
                // buffers: only s = d - 1 can be finite. Scanning every s here made the m = 2 row, and
                // so the whole table, quadratic in L (100,000 layers took seconds, 10^6 minutes).
                final long g = d - 1 <= hi && d >= 2 ? d - 1 + right[r0 - (d - 1)] + left[l0 + d - 1] : INF;
                if (g < INF) {
                    split = d - 1;
                    return g;
                }
                split = 1;
                return INF;
            }
            int lo = 1;
            if (convex) {
                while (lo < hi) {
                    final int mid = (lo + hi) >>> 1;
                    final long g0 = mid + right[r0 - mid] + left[l0 + mid];
                    final long g1 = mid + 1 + right[r0 - mid - 1] + left[l0 + mid + 1];
                    if (g1 >= g0) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                split = lo;
                return Math.min(INF, lo + right[r0 - lo] + left[l0 + lo]);
            }
            long best = INF;
            int arg = 1;
            for (int s = 1; s <= hi; s++) {
                final long g = s + right[r0 - s] + left[l0 + s];
                if (g < best) {
                    best = g;
                    arg = s;
                }
            }
            split = arg;
            return best;
        }

        /** Writes the optimal plan into {@code b}: the argmins are recomputed node by node. */
        Plan emit(Plan.Builder b) {
            return PlanEmitter.emit(b, this, 0, Kind.N, 0, layers, mMax, 0);
        }

        /**
         * Writes the first actions of subproblem (kind, segment (i, i+d], m buffers) and pushes the
         * subproblems that follow, with the same {@code type}.
         */
        @Override
        public void expand(PlanEmitter out, int type, Kind kind, int i, int d, int mGiven, long unused) {
            final int m = Math.min(mGiven, d);
            if (kind == Kind.N) {
                final long splitCost = bestSplitN(d, m);
                final int s = split;
                final long keep = bestKeep(d, m);
                if (splitCost <= advanceAll(d, m, keep)) {
                    out.advance(i, i + s);
                    out.push(type, Kind.F, i, s, m, 0);
                    out.push(type, Kind.N, i + s, d - s, m - 1, 0);
                } else {
                    out.advance(i, i + d);
                    out.push(type, Kind.F_KEEP, i, d, m, 0);
                }
                return;
            }
            if (d == 1) {
                out.backward(i + 1);
                return;
            }
            final long keep = bestKeep(d, m);
            final int s = split;
            if (kind == Kind.F && n(d, m) < keep) {
                out.drop(i + d);
                out.push(type, Kind.N, i, d, m, 0);
                return;
            }
            out.advance(i, i + s);
            out.push(type, Kind.F, i, s, m, 0);
            out.push(type, Kind.F, i + s, d - s, m - 1, 0);
        }
    }
}
