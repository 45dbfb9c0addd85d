package dev.checkprop.plan;

import java.util.Arrays;

/**
 * The dynamic program of {@link OptimalPlanner} generalised to a {@link Chain} of arbitrary sizes
 * and costs under a budget in bytes, over <em>persistent</em> schedules (a checkpoint, once kept,
 * stays until the backward pass has used it), with memory in slots of q bytes, as in rotor
 * (Beaumont et al., "Optimal checkpointing for heterogeneous chains", 2019).
 *
 * <h2>The recurrence</h2>
 * A subproblem is a segment (i, j] whose backward pass is next, exactly as in {@link OptimalPlanner}:
 * a<sup>i</sup> live and owned by the caller, nothing in (i, j) live; it ends after {@code B i+1} with
 * only a<sup>i</sup> left. The memory it may use is B &minus; e&middot;q &minus; b(i), where the
 * <em>deficit</em> e counts the slots of the checkpoints the enclosing segments hold besides
 * a<sup>i</sup>. Write b = bytes, s(l) = &lceil;b(l)/q&rceil;, adv(i, k) for the cost of
 * {@code F i+1 .. F k}, P(i, k) = max(b(i+1), b(t-1) + b(t) for i+2 &le; t &le; k) for the peak of that
 * advance (a<sup>i</sup> excluded), and room = B &minus; e&middot;q &minus; b(i).
 * <ul>
 * <li>F(i, j, e), a<sup>j</sup> live: F(i, i+1, e) = 0 when b(i+1) &le; room. Otherwise the better of
 *     F'(i, j, e) = min over i &lt; k &lt; j with b(j) + P(i, k) &le; room of
 *     adv(i, k) + F(k, j, e + s(i)) + F(i, k, e), and N(i, j, e) (drop a<sup>j</sup>).</li>
 * <li>N(i, j, e), a<sup>j</sup> not live: the better of min over i &lt; k &lt; j with P(i, k) &le; room
 *     of adv(i, k) + N(k, j, e + s(i)) + F(i, k, e), and adv(i, j) + F'(i, j, e) when
 *     P(i, j) &le; room.</li>
 * <li>The chain is N(0, L, 0); b(0) = 0 (a<sup>0</sup> is not counted).</li>
 * </ul>
 * Feasibility is checked in exact bytes, only the deficit is rounded (up, so the plan always fits):
 * the top level has deficit 0, so every budget from {@link Chain#minBudget()} up has a plan. When q
 * divides the size of every activation that can be a checkpoint (a<sup>1</sup> .. a<sup>L-1</sup>; e.g.
 * q = their gcd), the deficit is exact and so is the program; otherwise a plan may cost more than the
 * best persistent one. With equal sizes b and a budget of M&middot;b this is
 * {@link OptimalPlanner}'s recurrence (m = M &minus; 1 &minus; e for i &ge; 1) with costs; with varied
 * sizes, persistent schedules are not always optimal ({@link SlideDp} says why), and the tests check
 * that this program is never below and usually equal to an exhaustive search.
 *
 * <h2>Cost of planning</h2>
 * Up to S = B/q + 1 deficits per segment: time O(L<sup>3</sup>&middot;S) (about L<sup>3</sup>/3 passes of
 * a tight loop over S), memory two tables of at most L<sup>2</sup>/2 &middot; S longs; deficits for which
 * the whole segment fits are filled with its one-evaluation-per-layer cost without a search.
 * {@link #choose} picks q so that both stay under given limits. The plan is rebuilt by
 * {@link PlanEmitter}, re-deriving each argmin from the tables; its subproblems are (kind, i, j, e).
 */
final class SlotDp implements BudgetDp, PlanEmitter.Expander {

    private static final long INF = Segments.INF;
    private static final long[] EMPTY = StepFunctions.EMPTY;

    /** The fewest slots {@link #choose} accepts: coarser than this, the rounding costs too much. */
    static final int MIN_SLOTS = 32;

    private final int layers;
    private final Segments seg;
    private final long[] b;    // 1-based, b[0] = 0
    private final int[] s;     // slots, s[0] = 0
    private final long budget;
    private final long q;
    private final int maxLength; // the longest segment tabulated (the chain's length: all of them)
    private final int stride;    // maxLength + 1: table row of a^i, segments (i, i] .. (i, i + maxLength]
    private final long[][] fTab; // per segment i * (L + 1) + j: values for e = 0 .. hi(i, j)
    private final long[][] nTab;
    private long work;
    private final int[] arg = new int[1]; // keepAt's split, while the plan is written

    private SlotDp(Chain chain, long budget, long q, int maxLength) {
        this.layers = chain.layers();
        this.maxLength = Math.max(1, Math.min(maxLength, layers));
        this.seg = new Segments(chain);
        this.b = seg.bytes;
        this.s = slots(b, q);
        this.budget = budget;
        this.q = q;
        this.stride = this.maxLength + 1;
        // (L + 1) rows of maxLength + 1: a restricted program stays O(L * maxLength) in references.
        this.fTab = new long[(layers + 1) * stride][];
        this.nTab = new long[(layers + 1) * stride][];
        Arrays.fill(fTab, EMPTY);
        Arrays.fill(nTab, EMPTY);
    }

    private static int[] slots(long[] b, long q) {
        final int[] s = new int[b.length];
        for (int l = 1; l < b.length; l++) {
            s[l] = (int) Math.min(Integer.MAX_VALUE / 4, (b[l] + q - 1) / q);
        }
        return s;
    }

    /**
     * Answers the quantum that loses nothing: the greatest common divisor of the sizes of the
     * activations that can be checkpoints, a<sup>1</sup> .. a<sup>L-1</sup> (a deficit is a sum of
     * those; a<sup>L</sup> is only ever checked in exact bytes), or bytes(1) for L = 1.
     */
    static long gcd(Chain chain) {
        long g = 0;
        for (int l = 1; l <= Math.max(1, chain.layers() - 1); l++) {
            long a = chain.bytes(l);
            long x = g;
            while (a != 0) {
                final long t = x % a;
                x = a;
                a = t;
            }
            g = x;
        }
        return g;
    }

    /**
     * Answers the quantum q to plan {@code chain} under {@code budget} with: the gcd of the sizes if
     * that gives at most {@code slotLimit} slots, else the smallest multiple of it that does; then
     * doubled until the tables hold at most {@code maxEntries} values and the estimated work is at
     * most {@code workLimit}. Answers -1 if that needs fewer than {@link #MIN_SLOTS} slots.
     */
    static long choose(Chain chain, long budget, int slotLimit, long maxEntries, long workLimit) {
        final long g = gcd(chain);
        long m = Math.max(1, budget / g / Math.max(1, slotLimit));
        while (budget / (g * m) + 1 > slotLimit) {
            m++;
        }
        long q = g * m;
        while (true) {
            if (q > g && budget / q + 1 < Math.min(MIN_SLOTS, budget / g + 1)) {
                return -1;
            }
            final long[] est = estimate(chain, budget, q);
            if (est[0] <= maxEntries && est[1] <= workLimit) {
                return q;
            }
            if (q > Long.MAX_VALUE / 4) {
                return -1;
            }
            q = q == g ? g * 2 : q * 2;
        }
    }

    /** Answers {table entries, inner-loop steps} of {@link #solve} with quantum q, in O(L<sup>2</sup>). */
    static long[] estimate(Chain chain, long budget, long q) {
        return estimate(chain, budget, q, chain.layers());
    }

    /** {@link #estimate(Chain, long, long)} of {@link #solve(Chain, long, long, int)}, in O(L &middot; maxLength). */
    static long[] estimate(Chain chain, long budget, long q, int maxLength) {
        final int L = chain.layers();
        final long[] b = chain.bytesArray();
        final int[] s = slots(b, q);
        long entries = 0;
        long steps = 0;
        for (int i = 0; i < L; i++) {
            long peak = 0;
            long slotSum = 0; // s(i) + ... + s(j-2)
            for (int j = i + 1; j <= Math.min(L, i + maxLength); j++) {
                peak = Segments.nextPeak(b, i, j, peak);
                if (j >= i + 2) {
                    slotSum += s[j - 2];
                }
                final long hi = Math.floorDiv(budget - b[i] - peak, q);
                if (hi < 0) {
                    break; // the peak only grows with j
                }
                entries += hi + 1;
                final long lo = Math.min(hi, lo(b, budget, q, i, j, slotSum));
                steps += 2 * (hi - Math.max(lo, -1)) * (j - i - 1);
            }
        }
        return new long[] {2 * entries, steps};
    }

    /**
     * The largest deficit at which the whole segment (i, j] fits (keeping every activation is then
     * what the program finds: one evaluation per layer), or -1; {@code slotSum} = s(i) + &hellip; + s(j-2).
     */
    private static long lo(long[] b, long budget, long q, int i, int j, long slotSum) {
        if (j == i + 1) {
            return Math.max(-1, Math.floorDiv(budget - b[i] - b[j], q));
        }
        return Math.max(-1, Math.floorDiv(budget - b[j - 1] - b[j], q) - slotSum);
    }

    /** Fills the tables for {@code chain} under {@code budget} bytes (at least its minimum) in slots of q. */
    static SlotDp solve(Chain chain, long budget, long q) {
        return solve(chain, budget, q, chain.layers());
    }

    /**
     * {@link #solve(Chain, long, long)} for the segments of at most {@code maxLength} layers only (longer
     * ones answer {@link Segments#INF}): a segment's sub-plans use only shorter segments, so these values
     * are exact, at O(L &middot; maxLength<sup>2</sup> &middot; S) time.
     */
    static SlotDp solve(Chain chain, long budget, long q, int maxLength) {
        SlotDp dp = new SlotDp(chain, budget, q, maxLength);
        dp.fill();
        return dp;
    }

    @Override
    public long cost() {
        return at(tab(nTab, 0, layers), 0);
    }

    @Override
    public boolean thinned() {
        return false;
    }

    @Override
    public long work() {
        return work;
    }

    /** Answers the quantum. */
    long quantum() {
        return q;
    }

    /** Answers s(l) = &lceil;b(l)/q&rceil;, the slots a<sup>l</sup> takes as a deficit. */
    int slots(int l) {
        return s[l];
    }

    /** Answers F(i, j, e), the least cost of segment (i, j] with a<sup>j</sup> live at deficit e, or {@link Segments#INF}. */
    long keepCost(int i, int j, long e) {
        return at(tab(fTab, i, j), e);
    }

    /** Answers N(i, j, e), the least cost of segment (i, j] with a<sup>j</sup> not live at deficit e, or {@link Segments#INF}. */
    long dropCost(int i, int j, long e) {
        return at(tab(nTab, i, j), e);
    }

    private long adv(int i, int k) {
        return seg.adv(i, k);
    }

    /** The table of segment (i, j] in {@code tab}: empty (every value infinite) beyond the longest tabulated. */
    private long[] tab(long[][] tab, int i, int j) {
        return j - i > maxLength ? EMPTY : tab[i * stride + (j - i)];
    }

    private static long at(long[] v, long e) {
        return e >= 0 && e < v.length ? v[(int) e] : INF;
    }

    private void fill() {
        final int L = layers;
        long[] keep = new long[16];
        long[] split = new long[16];
        for (int d = 1; d <= maxLength; d++) {
            for (int i = 0; i + d <= L; i++) {
                final int j = i + d;
                long pAll = b[i + 1];
                long slotSum = 0;
                for (int t = i + 2; t <= j; t++) {
                    pAll = Math.max(pAll, b[t - 1] + b[t]);
                    slotSum += s[t - 2];
                }
                final long hiL = Math.floorDiv(budget - b[i] - pAll, q);
                if (hiL < 0) {
                    continue; // even the minimum-memory way does not fit at deficit 0
                }
                final int hi = (int) hiL;
                final int lo = (int) Math.min(hi, lo(b, budget, q, i, j, slotSum));
                final long[] f = new long[hi + 1];
                final long[] n = new long[hi + 1];
                fTab[i * stride + d] = f;
                nTab[i * stride + d] = n;
                Arrays.fill(f, 0, lo + 1, adv(i, j - 1));
                Arrays.fill(n, 0, lo + 1, adv(i, j));
                if (lo == hi) {
                    continue;
                }
                if (keep.length <= hi) {
                    keep = new long[2 * hi + 2];
                    split = new long[2 * hi + 2];
                }
                Arrays.fill(keep, lo + 1, hi + 1, INF);
                Arrays.fill(split, lo + 1, hi + 1, INF);
                final int si = s[i];
                long peak = 0;
                for (int k = i + 1; k < j; k++) {
                    peak = Segments.nextPeak(b, i, k, peak);
                    final long eSplit = Math.floorDiv(budget - b[i] - peak, q);
                    if (eSplit <= lo) {
                        break; // the peak only grows with k
                    }
                    final long a = adv(i, k);
                    final long[] left = tab(fTab, i, k);
                    final long[] rightF = tab(fTab, k, j);
                    final long[] rightN = tab(nTab, k, j);
                    final int topK = (int) Math.min(Math.min(Math.floorDiv(budget - b[i] - peak - b[j], q), hi),
                            Math.min(left.length - 1, (long) rightF.length - 1 - si));
                    final int topN = (int) Math.min(Math.min(eSplit, hi),
                            Math.min(left.length - 1, (long) rightN.length - 1 - si));
                    // Candidates and minima are nondecreasing in e, so a candidate whose least value
                    // (at lo + 1) is no better than the minimum at its last deficit changes nothing.
                    final int e0 = lo + 1;
                    final boolean doK = topK >= e0 && a + left[e0] + rightF[e0 + si] < keep[topK];
                    final boolean doN = topN >= e0 && a + left[e0] + rightN[e0 + si] < split[topN];
                    // Branch-free minima (which candidate wins is unpredictable), both tables in one
                    // pass where both apply (fewer loads of left[e]).
                    int e = e0;
                    if (doK && doN) {
                        final int both = Math.min(topK, topN);
                        for (; e <= both; e++) {
                            final long l = a + left[e];
                            keep[e] = Math.min(keep[e], l + rightF[e + si]);
                            split[e] = Math.min(split[e], l + rightN[e + si]);
                        }
                    }
                    if (doK) {
                        for (int x = e; x <= topK; x++) {
                            keep[x] = Math.min(keep[x], a + left[x] + rightF[x + si]);
                        }
                        work += topK - lo;
                    }
                    if (doN) {
                        for (int x = e; x <= topN; x++) {
                            split[x] = Math.min(split[x], a + left[x] + rightN[x + si]);
                        }
                        work += topN - lo;
                    }
                }
                final long all = adv(i, j);
                for (int e = lo + 1; e <= hi; e++) {
                    final long kv = Math.min(keep[e], INF);
                    final long nv = Math.min(split[e], Math.min(INF, all + kv));
                    n[e] = nv;
                    f[e] = Math.min(kv, nv);
                }
            }
        }
    }

    /** F'(i, j, e) from the tables; its split goes to {@code argK[0]} (0 for j = i + 1). */
    private long keepAt(int i, int j, int e, int[] argK) {
        argK[0] = 0;
        final long room = budget - (long) e * q - b[i];
        if (j == i + 1) {
            return b[j] <= room ? 0 : INF;
        }
        long best = INF;
        long peak = 0;
        for (int k = i + 1; k < j; k++) {
            peak = Segments.nextPeak(b, i, k, peak);
            if (b[j] + peak > room) {
                break;
            }
            final long v = adv(i, k) + at(tab(fTab, i, k), e) + at(tab(fTab, k, j), (long) e + s[i]);
            if (v < best) {
                best = v;
                argK[0] = k;
            }
        }
        return Math.min(best, INF);
    }

    @Override
    public Plan emit(Plan.Builder out) {
        return PlanEmitter.emit(out, this, 0, Kind.N, 0, layers, 0, 0);
    }

    /** Writes the first actions of subproblem (kind, (i, j], deficit e) and pushes those that follow. */
    @Override
    public void expand(PlanEmitter out, int type, Kind kind, int i, int j, int e, long unused) {
        final long room = budget - (long) e * q - b[i];
        if (kind == Kind.N) {
            long best = INF;
            int bestK = -1;
            long peak = 0;
            for (int k = i + 1; k < j; k++) {
                peak = Segments.nextPeak(b, i, k, peak);
                if (peak > room) {
                    break;
                }
                final long v = adv(i, k) + at(tab(fTab, i, k), e) + at(tab(nTab, k, j), (long) e + s[i]);
                if (v < best) {
                    best = v;
                    bestK = k;
                }
            }
            peak = Segments.nextPeak(b, i, j, peak);
            long all = INF;
            if (peak <= room) {
                all = Math.min(INF, adv(i, j) + keepAt(i, j, e, arg));
            }
            if (bestK >= 0 && best < INF && best <= all) {
                out.advance(i, bestK);
                out.push(Kind.F, i, bestK, e);
                out.push(Kind.N, bestK, j, e + s[i]);
            } else {
                if (all >= INF) {
                    throw new IllegalStateException("budget plan: no way to finish (" + i + ", " + j + "] at deficit " + e);
                }
                out.advance(i, j);
                out.push(Kind.F_KEEP, i, j, e);
            }
            return;
        }
        final long keep = keepAt(i, j, e, arg);
        if (kind == Kind.F && at(tab(nTab, i, j), e) < keep) {
            out.drop(j);
            out.push(Kind.N, i, j, e);
            return;
        }
        if (keep >= INF) {
            throw new IllegalStateException("budget plan: no way to keep a" + j + " over (" + i + ", " + j + "]");
        }
        if (j == i + 1) {
            out.backward(j);
            return;
        }
        final int k = arg[0];
        out.advance(i, k);
        out.push(Kind.F, i, k, e);
        out.push(Kind.F, k, j, e + s[i]);
    }
}
