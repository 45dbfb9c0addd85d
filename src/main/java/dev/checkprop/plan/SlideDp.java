package dev.checkprop.plan;

/**
 * The exact byte-budget dynamic program for a {@link Chain} of arbitrary sizes and costs: the
 * persistent program of {@link SlotDp} plus <em>slides</em>, which is what varied sizes need.
 *
 * <h2>Why slides</h2>
 * With equal sizes, a checkpoint once kept may as well stay until the backward pass has used it
 * ({@link OptimalPlanner}'s persistent schedules are optimal). With varied sizes they are not: on
 * sizes 24, 32, 16, 24, 24, 32, 32 and a budget of 80, the best plan keeps the small a<sup>3</sup>
 * in the first sweep, later uses it once more to compute a<sup>4</sup>, drops it to make room for
 * a<sup>5</sup>, and recomputes a<sup>3</sup> from a<sup>0</sup> at the end (116 against 120). The
 * checkpoint <em>slid</em> from 3 to 4. An exhaustive search finds such plans in about 1% of small
 * random chains, up to 13% cheaper; with slides at every level of the recursion, as below, this
 * program equals the exhaustive search on every one of thousands of random chains (see the tests).
 *
 * <h2>The recurrence</h2>
 * A subproblem (i, j, D, t'): the segment (i, j] with a<sup>i</sup> live, the <em>anchor</em>,
 * nothing in (i, j) live, a<sup>j</sup> live or not (kinds F, F', N as in {@link OptimalPlanner}), the
 * gradient at a<sup>j</sup> next, the ancestors holding D bytes besides the anchor; it ends at
 * backward position t' (i &le; t' &lt; j) with a<sup>t'</sup> live and nothing else of (i, j]: for
 * t' = i that is the persistent ending ({@code B i+1} done), for t' &gt; i the anchor has slid to
 * t' and the caller continues from there. Write b = bytes, adv(i, k) for the cost of
 * {@code F i+1 .. F k}, P(i, k) for the peak of that advance without a<sup>i</sup>
 * (max(b(i+1), b(t-1) + b(t) for i+2 &le; t &le; k)), and room = B &minus; D &minus; b(i). The options:
 * <ul>
 * <li>persistent split at k with the child returning at t (i &lt; k &le; t &lt; j, t &gt; t'): advance to
 *     a<sup>k</sup> keeping it (b(j)&middot;[a<sup>j</sup> live] + P(i, k) &le; room), solve (k, j, D + b(i), t),
 *     then (i, t, D, t') with a<sup>t</sup> live: adv(i, k) + X(k, j, D + b(i), t) + F(i, t, D, t');</li>
 * <li>slide to k (i &lt; k &le; t'): {@code F i+1}, drop a<sup>i</sup>, advance to a<sup>k</sup>
 *     (b(i) + b(i+1) and every later pair, plus b(j) if live, fit in B &minus; D), then (k, j, D, t'):
 *     adv(i, k) + X(k, j, D, t');</li>
 * <li>F only: drop a<sup>j</sup>, giving N; N only: advance to a<sup>j</sup> (P(i, j) &le; room),
 *     giving F' (the {@code LOSS} follows the first computation of a<sup>L</sup>);</li>
 * <li>F(i, i+1, D, i) = 0 ({@code B i+1}) when b(i) + b(i+1) + D &le; B.</li>
 * </ul>
 * The chain is N(0, L, 0, 0); a<sup>0</sup> is free and never slides.
 *
 * <h2>Cost of planning</h2>
 * Costs are step functions of D ({@link StepFunctions}): exact, or thinned to the slot limit S.
 * The split's min over (k, t) is taken in two stages (first over k for each t, then over t), so with
 * Q breakpoints per function: time O(L<sup>4</sup>&middot;Q) (about L<sup>4</sup>/4 merges of Q
 * points), memory O(L<sup>3</sup>&middot;Q) (L<sup>3</sup>/3 functions; L = 64 with random widths holds
 * 10<sup>7</sup> to 5&middot;10<sup>7</sup> longs). Work and memory are counted and the program gives up
 * past a limit ({@link DpLimits#MAX_EXACT_STORED_LONGS} longs), deterministically: the same chain always
 * gives the same answer. The plan is rebuilt by {@link PlanEmitter}; its subproblems are
 * (kind, i, j, t', D).
 */
final class SlideDp implements BudgetDp, PlanEmitter.Expander {

    private static final long INF = Segments.INF;
    private static final long[] EMPTY = StepFunctions.EMPTY;

    private final int layers;
    private final Segments seg;
    private final long[] b;   // 1-based, b[0] = 0
    private final long budget;
    private final int stride;
    private final StepFunctions sf;
    private final long workLimit;
    // Per segment i * (L + 1) + j: one function per return point t' (index t' - i).
    private final long[][][] fTab;
    private final long[][][] nTab;
    // The choices of best and keepAt, while the plan is written.
    private final int[] arg = new int[2];
    private final int[] keepArg = new int[2];

    private SlideDp(Chain chain, long budget, int slotLimit, long workLimit) {
        this.layers = chain.layers();
        this.seg = new Segments(chain);
        this.b = seg.bytes;
        this.budget = budget;
        this.sf = new StepFunctions(budget, slotLimit, workLimit);
        this.workLimit = workLimit;
        this.stride = layers + 1;
        this.fTab = new long[stride * stride][][];
        this.nTab = new long[stride * stride][][];
    }

    /** A lower bound on the work of {@link #solve}, in merged breakpoints (a few 10^8 a second). */
    static long minimumWork(int layers) {
        final long l = layers;
        return l * l * l * l / 8;
    }

    /**
     * Fills the tables for {@code chain} under {@code budget} bytes (at least the chain's
     * {@link Chain#minBudget()}), or answers {@code null} if that takes more than {@code workLimit}
     * merged breakpoints.
     */
    static SlideDp solve(Chain chain, long budget, int slotLimit, long workLimit) {
        if (minimumWork(chain.layers()) > workLimit) {
            return null;
        }
        SlideDp dp = new SlideDp(chain, budget, slotLimit, workLimit);
        return dp.fill() ? dp : null;
    }

    @Override
    public boolean thinned() {
        return sf.thinned();
    }

    @Override
    public long work() {
        return sf.work();
    }

    /** The longs its cost functions hold (8 bytes each). */
    long stored() {
        return sf.stored();
    }

    @Override
    public long cost() {
        return StepFunctions.eval(nTab[layers][0], 0);
    }

    private long adv(int i, int k) {
        return seg.adv(i, k);
    }

    private long[] f(int i, int j, int t) {
        final long[][] row = fTab[i * stride + j];
        return t - i < row.length ? row[t - i] : EMPTY;
    }

    private long[] n(int i, int j, int t) {
        final long[][] row = nTab[i * stride + j];
        return t - i < row.length ? row[t - i] : EMPTY;
    }

    private boolean fill() {
        final int L = layers;
        // Stage one: per child return point t, the best advance to a kept a^k (k <= t) with the child.
        final StepFunctions.Acc[] rk = new StepFunctions.Acc[L + 1];
        final StepFunctions.Acc[] rn = new StepFunctions.Acc[L + 1];
        for (int t = 0; t <= L; t++) {
            rk[t] = sf.acc();
            rn[t] = sf.acc();
        }
        final StepFunctions.Acc keep = sf.acc();
        final StepFunctions.Acc drop = sf.acc();
        final StepFunctions.Acc both = sf.acc();
        double whole = 0;
        for (int d = 1; d <= L; d++) {
            whole += (double) (L - d + 1) * d * d * d;
        }
        double done = 0;
        for (int d = 1; d <= L; d++) {
            for (int i = 0; i + d <= L; i++) {
                final int j = i + d;
                final int seg = i * stride + j;
                final long room = budget - b[i];
                // a^0 never slides, so a segment anchored at 0 only ever returns at 0.
                final int tops = i == 0 ? 1 : d;
                final long[][] fRow = new long[tops][];
                final long[][] nRow = new long[tops][];
                java.util.Arrays.fill(fRow, EMPTY);
                java.util.Arrays.fill(nRow, EMPTY);
                fTab[seg] = fRow;
                nTab[seg] = nRow;
                if (d == 1) {
                    final long t = room - b[j];
                    if (t >= 0) {
                        fRow[0] = new long[] {t, 0};
                        nRow[0] = new long[] {t, adv(i, j)};
                    }
                    continue;
                }
                long peak = 0;
                for (int k = i + 1; k < j; k++) {
                    peak = Segments.nextPeak(b, i, k, peak);
                    final long capN = room - peak;
                    if (capN < 0) {
                        break; // P(i, k) only grows with k
                    }
                    final long a = adv(i, k);
                    for (int t = k; t < j; t++) {
                        final long[] fk = f(k, j, t);
                        final long[] nk = n(k, j, t);
                        rk[t].addShift(fk, fk.length / 2, b[i], a, capN - b[j]);
                        rn[t].addShift(nk, nk.length / 2, b[i], a, capN);
                    }
                }
                final long peakAll = Math.max(peak, b[j - 1] + b[j]);
                // Stage two: per return point t', the best child return point t > t', or a slide.
                for (int tp = i; tp < i + tops; tp++) {
                    for (int t = tp + 1; t < j; t++) {
                        final long[] left = f(i, t, tp);
                        keep.addSum(rk[t].points(), rk[t].size(), left, left.length / 2, 0, 0, budget);
                        drop.addSum(rn[t].points(), rn[t].size(), left, left.length / 2, 0, 0, budget);
                    }
                    if (i > 0) {
                        // Slide to k <= t': F i+1 beside a^i, drop a^i, then pairs up to a^k.
                        long pairs = 0;
                        for (int k = i + 1; k <= tp; k++) {
                            if (k >= i + 2) {
                                pairs = Math.max(pairs, b[k - 1] + b[k]);
                            }
                            final long cap = Math.min(room - b[i + 1], budget - pairs);
                            if (cap < 0) {
                                break;
                            }
                            final long a = adv(i, k);
                            final long[] fk = f(k, j, tp);
                            final long[] nk = n(k, j, tp);
                            keep.addShift(fk, fk.length / 2, 0, a, cap - b[j]);
                            drop.addShift(nk, nk.length / 2, 0, a, cap);
                        }
                    }
                    final long[] keepFn = keep.store();
                    drop.addShift(keepFn, keepFn.length / 2, 0, adv(i, j), room - peakAll);
                    final long[] nFn = drop.store();
                    both.addShift(keepFn, keepFn.length / 2, 0, 0, budget);
                    both.addShift(nFn, nFn.length / 2, 0, 0, budget);
                    fRow[tp - i] = both.store();
                    nRow[tp - i] = nFn;
                }
                for (int t = i + 1; t < j; t++) {
                    rk[t].clear();
                    rn[t].clear();
                }
                if (sf.exhausted() || sf.stored() > DpLimits.MAX_EXACT_STORED_LONGS) {
                    return false;
                }
            }
            // Give up early, rather than at the limit, when the work so far projects past it: level d
            // has L - d + 1 segments of about d^2 merges each, of lists that grow about like d.
            done += (double) (L - d + 1) * d * d * d;
            if (d >= Math.max(8, L / 16) && sf.work() * (whole / done) > workLimit) {
                return false;
            }
        }
        return true;
    }

    /**
     * The best way to finish (i, j, D, t') with a<sup>j</sup> live without dropping it (F'), from the
     * tables: the cost, and in {@code arg} the choice: {0, 0} for {@code B j} (j = i + 1),
     * {k, t} for a persistent split, {k, -1} for a slide.
     */
    private long keepAt(int i, int j, int tp, long d, int[] arg) {
        arg[0] = 0;
        arg[1] = 0;
        if (j == i + 1) {
            return tp == i && b[i] + b[j] + d <= budget ? 0 : INF;
        }
        return best(i, j, tp, d, true, arg);
    }

    /** The best persistent split or slide of (i, j, D, t'), from the tables; see {@link #keepAt}. */
    private long best(int i, int j, int tp, long d, boolean live, int[] arg) {
        final long room = budget - b[i] - d;
        final long bj = live ? b[j] : 0;
        long best = INF;
        long peak = 0;
        for (int k = i + 1; k < j; k++) {
            peak = Segments.nextPeak(b, i, k, peak);
            if (bj + peak > room) {
                break;
            }
            for (int t = Math.max(k, tp + 1); t < j; t++) {
                final long child = StepFunctions.eval(live ? f(k, j, t) : n(k, j, t), d + b[i]);
                if (child >= INF) {
                    continue;
                }
                final long v = adv(i, k) + child + StepFunctions.eval(f(i, t, tp), d);
                if (v < best) {
                    best = v;
                    arg[0] = k;
                    arg[1] = t;
                }
            }
        }
        if (i > 0) {
            long pairs = 0;
            for (int k = i + 1; k <= tp; k++) {
                if (k >= i + 2) {
                    pairs = Math.max(pairs, b[k - 1] + b[k]);
                }
                if (b[i + 1] + bj > room || pairs + bj + d > budget) {
                    break;
                }
                final long v = adv(i, k) + StepFunctions.eval(live ? f(k, j, tp) : n(k, j, tp), d);
                if (v < best) {
                    best = v;
                    arg[0] = k;
                    arg[1] = -1;
                }
            }
        }
        return Math.min(best, INF);
    }

    @Override
    public Plan emit(Plan.Builder out) {
        return PlanEmitter.emit(out, this, 0, Kind.N, 0, layers, 0, 0);
    }

    /** Writes the first actions of subproblem (kind, (i, j], return point t', deficit D) and pushes those that follow. */
    @Override
    public void expand(PlanEmitter out, int type, Kind kind, int i, int j, int tp, long d) {
        if (kind == Kind.N) {
            final long split = best(i, j, tp, d, false, arg);
            final int k = arg[0];
            final int t = arg[1];
            long all = INF;
            long peak = b[i + 1];
            for (int l = i + 2; l <= j; l++) {
                peak = Math.max(peak, b[l - 1] + b[l]);
            }
            if (peak + b[i] + d <= budget) {
                all = Math.min(INF, adv(i, j) + keepAt(i, j, tp, d, keepArg));
            }
            if (split < INF && split <= all) {
                if (t < 0) {
                    out.slide(i, k);
                    out.push(Kind.N, k, j, tp, d);
                } else {
                    out.advance(i, k);
                    out.push(Kind.F, i, t, tp, d);
                    out.push(Kind.N, k, j, t, d + b[i]);
                }
            } else {
                if (all >= INF) {
                    throw new IllegalStateException("budget plan: no way to finish (" + i + ", " + j + "] at deficit " + d);
                }
                out.advance(i, j);
                out.push(Kind.F_KEEP, i, j, tp, d);
            }
            return;
        }
        final long keep = keepAt(i, j, tp, d, arg);
        if (kind == Kind.F && StepFunctions.eval(n(i, j, tp), d) < keep) {
            out.drop(j);
            out.push(Kind.N, i, j, tp, d);
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
        final int t = arg[1];
        if (t < 0) {
            out.slide(i, k);
            out.push(Kind.F, k, j, tp, d);
        } else {
            out.advance(i, k);
            out.push(Kind.F, i, t, tp, d);
            out.push(Kind.F, k, j, t, d + b[i]);
        }
    }
}
