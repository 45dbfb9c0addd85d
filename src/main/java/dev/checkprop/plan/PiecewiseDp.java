package dev.checkprop.plan;

/**
 * The byte-budget program for the chains real networks give, fast: every layer but the last holds
 * activations of the same size b, every layer but the first and the last costs the same c; the first
 * layer's cost c<sub>1</sub> (its input width differs) and the last layer's size b<sub>L</sub> and cost
 * c<sub>L</sub> (its output width differs) are arbitrary. A uniform chain is the special case.
 *
 * <h2>Why this is {@link SlotDp}'s program, exactly</h2>
 * In {@link SlotDp}'s recurrence with exact deficits, a segment (i, j] with 1 &le; i and j &le; L&minus;1
 * only ever sees layers of size b and cost c, and holds checkpoints of size b: it is
 * {@link OptimalPlanner}'s count-based problem with m = &lfloor;B/b&rfloor; &minus; n buffers, n the
 * checkpoints held (its left end included), its cost c times the count; its tables serve directly.
 * The segments that touch layer 1 or layer L are few kinds, each a function of one or two integers:
 * <ul>
 * <li>(0, j], j &lt; L: its budget is always B (a<sup>0</sup> is free): a function of j, O(L<sup>2</sup>);</li>
 * <li>(i, L], i &ge; 1: budget B &minus; n&middot;b: a function of (L &minus; i, n), checked in bytes
 *     with b<sub>L</sub> where a<sup>L</sup> is live, O(L<sup>2</sup>&middot;M);</li>
 * <li>(0, L]: the chain.</li>
 * </ul>
 * The values are those of the general program on the same chain (the tests compare them), and
 * persistent schedules are optimal for these chains (the tests compare with an exhaustive search).
 * Time O(L&middot;M&middot;log L + L<sup>2</sup>&middot;M), M = &lfloor;B/b&rfloor;, so L = 2000 plans in well
 * under a second. The plan is rebuilt by {@link PlanEmitter}, with nodes of the four types below.
 */
final class PiecewiseDp implements PlanEmitter.Expander {

    private static final long INF = Segments.INF;

    // Node types for emission: (type, kind, x, y, z).
    private static final int A = 0; // interior segment (x, x+y] with z buffers: OptimalPlanner's table
    private static final int BT = 1; // (0, x], x < L
    private static final int C = 2; // (L - x, L] holding y checkpoints
    private static final int D = 3; // (0, L]

    private static final Kind F = Kind.F;
    private static final Kind F_KEEP = Kind.F_KEEP;
    private static final Kind N = Kind.N;

    private final int layers;
    private final long bI;   // bytes of a^1 .. a^(L-1)
    private final long bL;   // bytes of a^L
    private final long c1;
    private final long cI;   // cost of layers 2 .. L-1
    private final long cL;
    private final long budget;
    private final int m;     // floor(B / bI)
    private final OptimalPlanner.Table table; // segments inside (0, L), null if none
    // Type (0, j]: index j.
    private final long[] fb;
    private final long[] nb;
    private final long[] kb;
    // Type (L - d, L] with n checkpoints: index d * (nMax + 1) + n.
    private final int nMax;
    private final long[] fc;
    private final long[] nc;
    private final long[] kc;
    private long cost;

    /** Whether {@code chain} has the shape this program serves (L &ge; 2). */
    static boolean applies(Chain chain) {
        final int L = chain.layers();
        if (L < 2) {
            return false;
        }
        for (int l = 2; l < L; l++) {
            if (chain.bytes(l) != chain.bytes(1) || (l > 2 && chain.cost(l) != chain.cost(2))) {
                return false;
            }
        }
        return true;
    }

    /**
     * Answers {table entries, inner-loop steps} the program would take, so that callers can refuse
     * chains too large for it: {@link OptimalPlanner}'s count table plus three tables of L by M for
     * the segments that end at L, and about L<sup>2</sup>&middot;M/2 steps to fill them.
     */
    static long[] estimate(Chain chain, long budget) {
        final int L = chain.layers();
        final long mm = Math.max(0, Math.min(budget / chain.bytes(1) - 1, L - 2));
        final long nMax = Math.max(0, Math.min(L - 1, (budget - chain.bytes(L)) / chain.bytes(1)));
        long steps = 0;
        for (long n = 1; n <= nMax; n++) {
            steps += (L - n) * (L - n) / 2;
        }
        return new long[] {(mm + 1) * (L - 1) + 3L * L * (nMax + 1), steps};
    }

    /**
     * Fills the program for {@code chain} (for which {@link #applies} holds) under {@code budget}
     * bytes, at least {@link Chain#minBudget()} and below the total bytes.
     */
    PiecewiseDp(Chain chain, long budget) {
        final int L = chain.layers();
        this.layers = L;
        this.bI = chain.bytes(1);
        this.bL = chain.bytes(L);
        this.c1 = chain.cost(1);
        this.cI = L >= 3 ? chain.cost(2) : 0;
        this.cL = chain.cost(L);
        this.budget = budget;
        this.m = (int) Math.min(Integer.MAX_VALUE - 1, budget / bI);
        this.table = L >= 3 && m >= 2 ? new OptimalPlanner.Table(L - 2, Math.min(m - 1, L - 2)) : null;
        // n checkpoints of size b leave room for a^L (d = 1): n <= (B - bL) / b.
        this.nMax = (int) Math.max(0, Math.min(L - 1, (budget - bL) / bI));
        this.fb = new long[L];
        this.nb = new long[L];
        this.kb = new long[L];
        final int stride = nMax + 1;
        this.fc = new long[L * stride];
        this.nc = new long[L * stride];
        this.kc = new long[L * stride];
        fillC();
        fillB();
        fillD();
    }

    /** Answers the total forward cost of the plan. */
    long cost() {
        return cost;
    }

    /** Cost of the interior segment (i, i+s] with m' buffers, a<sup>i+s</sup> live (F) or not (N). */
    private long a(boolean live, int s, int mm) {
        if (mm <= 0 || table == null) {
            return INF;
        }
        final long v = live ? table.f(s, mm) : table.n(s, mm);
        return v >= INF ? INF : v * cI;
    }

    /** adv(0, k): the cost of F1 .. Fk for k &lt; L. */
    private long adv0(int k) {
        return c1 + (k - 1) * cI;
    }

    /** P(i, i+s) inside (0, L): b for one step, 2b beyond. */
    private long pairs(int s) {
        return s == 1 ? bI : 2 * bI;
    }

    private int ci(int d, int n) {
        return d * (nMax + 1) + n;
    }

    private void fillC() {
        final int L = layers;
        for (int d = 1; d < L; d++) {
            for (int n = 1; n <= Math.min(nMax, L - d); n++) {
                final long avail = budget - n * bI;
                final int x = ci(d, n);
                if (d == 1) {
                    final boolean fits = bL <= avail;
                    kc[x] = fits ? 0 : INF;
                    nc[x] = fits ? cL : INF;
                    fc[x] = kc[x];
                    continue;
                }
                if ((d - 1) * bI + bL <= avail) {
                    // The whole segment fits: each layer once (one evaluation per layer is a lower bound).
                    kc[x] = (d - 1) * cI;
                    nc[x] = kc[x] + cL;
                    fc[x] = kc[x];
                    continue;
                }
                long keep = INF;
                long split = INF;
                for (int s = 1; s < d; s++) {
                    final long p = pairs(s);
                    if (p > avail) {
                        break;
                    }
                    final long left = a(true, s, m - n);
                    if (left >= INF) {
                        continue;
                    }
                    final long base = s * cI + left;
                    if (n + 1 <= nMax) {
                        if (bL + p <= avail) {
                            keep = Math.min(keep, base + fc[ci(d - s, n + 1)]);
                        }
                        split = Math.min(split, base + nc[ci(d - s, n + 1)]);
                    }
                }
                keep = Math.min(keep, INF);
                final long peakAll = Math.max(pairs(d - 1), bI + bL);
                final long all = peakAll <= avail && keep < INF ? (d - 1) * cI + cL + keep : INF;
                kc[x] = keep;
                nc[x] = Math.min(Math.min(split, all), INF);
                fc[x] = Math.min(kc[x], nc[x]);
            }
            // n beyond nMax (or beyond L - d) stays 0 in the arrays but is never read: fc/nc reads
            // are guarded by n + 1 <= nMax, and n <= L - d holds for every reachable segment.
        }
    }

    private void fillB() {
        final int L = layers;
        for (int j = 1; j < L; j++) {
            if (j == 1) {
                kb[1] = 0;
                nb[1] = c1;
                fb[1] = 0;
                continue;
            }
            long keep = INF;
            long split = INF;
            for (int k = 1; k < j; k++) {
                final long p = pairs(k);
                if (p > budget) {
                    break;
                }
                final long base = adv0(k) + fb[k];
                if (bI + p <= budget) {
                    keep = Math.min(keep, base + a(true, j - k, m - 1));
                }
                split = Math.min(split, base + a(false, j - k, m - 1));
            }
            keep = Math.min(keep, INF);
            final long all = pairs(j) <= budget && keep < INF ? adv0(j) + keep : INF;
            kb[j] = keep;
            nb[j] = Math.min(Math.min(split, all), INF);
            fb[j] = Math.min(kb[j], nb[j]);
        }
    }

    private long advAll() {
        return c1 + (layers - 2) * cI + cL;
    }

    private long peakAll() {
        return Math.max(layers >= 3 ? 2 * bI : bI, bI + bL);
    }

    /** F'(0, L) and N(0, L); {@code arg[0]} gets the split of the chosen option (0: advance all). */
    private long keepD(int[] arg) {
        long best = INF;
        arg[0] = -1;
        for (int k = 1; k < layers; k++) {
            final long p = pairs(k);
            if (bL + p > budget) {
                break;
            }
            if (nMax < 1) {
                break;
            }
            final long v = adv0(k) + fc[ci(layers - k, 1)] + fb[k];
            if (v < best) {
                best = v;
                arg[0] = k;
            }
        }
        return Math.min(best, INF);
    }

    private long splitD(int[] arg) {
        long best = INF;
        arg[0] = -1;
        for (int k = 1; k < layers && nMax >= 1; k++) {
            if (pairs(k) > budget) {
                break;
            }
            final long v = adv0(k) + nc[ci(layers - k, 1)] + fb[k];
            if (v < best) {
                best = v;
                arg[0] = k;
            }
        }
        return Math.min(best, INF);
    }

    private void fillD() {
        final int[] arg = new int[1];
        final long keep = keepD(arg);
        final long all = peakAll() <= budget && keep < INF ? advAll() + keep : INF;
        cost = Math.min(splitD(arg), all);
        if (cost >= INF) {
            throw new IllegalStateException("piecewise plan: no plan under " + budget + " bytes");
        }
    }

    /** Writes the plan into {@code out}, re-deriving the argmins; interior parts come from the table. */
    Plan emit(Plan.Builder out) {
        return PlanEmitter.emit(out, this, D, N, 0, 0, 0, 0);
    }

    @Override
    public void expand(PlanEmitter out, int type, Kind kind, int x, int y, int z, long unused) {
        switch (type) {
            case A -> table.expand(out, A, kind, x, y, z, 0);
            case D -> {
                final int L = layers;
                final int[] arg = new int[1];
                if (kind == N) {
                    final long split = splitD(arg);
                    final int k = arg[0];
                    final long keep = keepD(new int[1]);
                    final long all = peakAll() <= budget && keep < INF ? advAll() + keep : INF;
                    if (k >= 1 && split <= all) {
                        out.advance(0, k);
                        push(out, BT, F, k, 0, 0);
                        push(out, C, N, L - k, 1, 0);
                    } else {
                        out.advance(0, L);
                        push(out, D, F_KEEP, 0, 0, 0);
                    }
                } else {
                    keepD(arg);
                    final int k = arg[0];
                    out.advance(0, k);
                    push(out, BT, F, k, 0, 0);
                    push(out, C, F, L - k, 1, 0);
                }
            }
            case BT -> emitB(out, kind, x);
            case C -> emitC(out, kind, x, y);
            default -> throw new AssertionError(type);
        }
    }

    private void emitB(PlanEmitter out, Kind kind, int j) {
        if (kind != N && j == 1) {
            out.backward(1);
            return;
        }
        if (kind == F && nb[j] < kb[j]) {
            out.drop(j);
            push(out, BT, N, j, 0, 0);
            return;
        }
        // Re-derive the argmin of the option taken.
        long best = INF;
        int bestK = -1;
        boolean live = kind != N;
        for (int k = 1; k < j; k++) {
            final long p = pairs(k);
            if (p > budget) {
                break;
            }
            if (live && bI + p > budget) {
                continue;
            }
            final long v = adv0(k) + fb[k] + a(live, j - k, m - 1);
            if (v < best) {
                best = v;
                bestK = k;
            }
        }
        if (kind == N) {
            final long all = pairs(j) <= budget && kb[j] < INF ? adv0(j) + kb[j] : INF;
            if (bestK < 0 || best > all) {
                out.advance(0, j);
                push(out, BT, F_KEEP, j, 0, 0);
                return;
            }
        }
        out.advance(0, bestK);
        push(out, BT, F, bestK, 0, 0);
        push(out, A, live ? F : N, bestK, j - bestK, m - 1);
    }

    private void emitC(PlanEmitter out, Kind kind, int d, int n) {
        final int L = layers;
        final int i = L - d;
        final int x = ci(d, n);
        if (kind != N && d == 1) {
            out.backward(L);
            return;
        }
        if (kind == F && nc[x] < kc[x]) {
            out.drop(L);
            push(out, C, N, d, n, 0);
            return;
        }
        final long avail = budget - n * bI;
        final boolean live = kind != N;
        long best = INF;
        int bestS = -1;
        final boolean fitsAll = d >= 2 && (d - 1) * bI + bL <= avail;
        if (fitsAll) {
            bestS = 1; // the whole segment fits: keep every activation, one step at a time
            best = live ? kc[x] : nc[x];
        } else {
            for (int s = 1; s < d && n + 1 <= nMax; s++) {
                final long p = pairs(s);
                if (p > avail) {
                    break;
                }
                if (live && bL + p > avail) {
                    continue;
                }
                final long left = a(true, s, m - n);
                final long right = live ? fc[ci(d - s, n + 1)] : nc[ci(d - s, n + 1)];
                if (left >= INF || right >= INF) {
                    continue;
                }
                final long v = s * cI + left + right;
                if (v < best) {
                    best = v;
                    bestS = s;
                }
            }
        }
        if (kind == N) {
            final long peakAll = d == 1 ? bL : Math.max(pairs(d - 1), bI + bL);
            final long all = peakAll <= avail && kc[x] < INF ? (d - 1) * cI + cL + kc[x] : INF;
            if (!fitsAll && (bestS < 0 || best > all)) {
                out.advance(i, L);
                push(out, C, F_KEEP, d, n, 0);
                return;
            }
        }
        out.advance(i, i + bestS);
        push(out, A, F, i, bestS, m - n);
        push(out, C, live ? F : N, d - bestS, n + 1, 0);
    }

    private static void push(PlanEmitter out, int type, Kind kind, int x, int y, int z) {
        out.push(type, kind, x, y, z, 0);
    }
}
