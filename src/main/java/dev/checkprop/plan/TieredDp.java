package dev.checkprop.plan;

import java.util.ArrayList;
import java.util.List;

/**
 * The program of {@link TieredPlanner}: the two-level schedule of least predicted step time
 * ({@link StepTimes#predict}) under a heap budget and each tier's capacity.
 *
 * <h2>The family</h2>
 * Checkpoints 0 = c<sub>0</sub> &lt; c<sub>1</sub> &lt; &hellip; &lt; c<sub>k</sub> &lt; L cut the chain into
 * segments. The forward sweep computes a<sup>1</sup> .. a<sup>c<sub>k</sub></sup> once, keeping two
 * buffers ({@code F l, D l-1}), and writes each of c<sub>1</sub> .. c<sub>k-1</sub> to a tier of its own
 * right after computing it ({@code F c, D c-1, W c@t}). a<sup>c<sub>k</sub></sup> stays in the heap. Then
 * the segments run right to left, each with its heap-optimal sub-plan ({@link SlotDp}'s persistent
 * program on the chain with f(l) as costs): (c<sub>k</sub>, L] with a<sup>L</sup> not yet computed (its
 * N), every other (c, c'] with a<sup>c'</sup> live (its F). The start a<sup>c</sup> of the segment that
 * follows is read ({@code R c}) either when the current segment starts &mdash; a prefetch, which holds its
 * heap buffer through the segment, so the sub-plan runs with that deficit &mdash; or when it ends; its copy
 * is discarded ({@code X c}) when its own segment is done. k = 0 is the heap-only optimum.
 *
 * <h2>Its time, exactly</h2>
 * In this family the simulator's time splits into independent terms. A write of c is issued with
 * the I/O thread idle (the previous one ended before its {@code D}) and ends w(c) after F c, while
 * {@code D c} comes after {@code F c+1}: a stall of max(0, w(c) &minus; f(c+1)). In the backward part
 * the I/O thread holds at most one read; a segment of compute time T whose successor's start is
 * prefetched lasts max(T, r(c)); read at its end, T + r(c). With A(i) = f(1) + &hellip; + f(i),
 * T<sub>F</sub>(h, i, e) = F(h, i, e) + &Sigma;<sub>h&lt;l&le;i</sub> g(l) and T<sub>N</sub>(i, e) = N(i, L, e)
 * + &Sigma;<sub>i&lt;l&le;L</sub> g(l) (e the deficit in slots), seg(T<sub>0</sub>, T<sub>e</sub>, r) =
 * min(max(T<sub>e</sub>, r), T<sub>0</sub> + r), and U the capacity left for checkpoints before h:
 * <ul>
 * <li>Rest(0, i, U) = T<sub>F</sub>(0, i, 0);</li>
 * <li>Rest(h, i, U) = min of T<sub>F</sub>(h, i, 0) + Rest(0, h, U) and, over 1 &le; g &lt; h and tiers t
 *     with room for a<sup>g</sup>, max(0, w<sub>t</sub>(g) &minus; f(g+1)) + seg(T<sub>F</sub>(h, i, 0),
 *     T<sub>F</sub>(h, i, s(g)), r<sub>t</sub>(g)) + Rest(g, h, U &minus; a<sup>g</sup>);</li>
 * <li>the step: min of T<sub>N</sub>(0, 0), A(i) + T<sub>N</sub>(i, 0) + Rest(0, i, C) and
 *     A(i) + max(0, w<sub>t</sub>(h) &minus; f(h+1)) + seg(T<sub>N</sub>(i, 0), T<sub>N</sub>(i, s(h)),
 *     r<sub>t</sub>(h)) + Rest(h, i, C &minus; a<sup>h</sup>), over 1 &le; h &lt; i &lt; L and t.</li>
 * </ul>
 * Capacities are counted in units of the gcd of the copies' sizes (exact), a tier whose capacity holds
 * every possible checkpoint without a dimension. Time O(L<sup>3</sup>&middot;T&middot;C) for T tiers and C
 * capacity states, after {@link SlotDp}'s O(L<sup>3</sup>&middot;S). Beyond the work limits the segments
 * between checkpoints are limited to the longest K that fits ({@link #maxSegment}; both programs then
 * O(L&middot;K<sup>2</sup>)), then the capacity unit is coarsened (sizes rounded up, so plans still fit; never
 * past the largest copy), and the result is marked inexact: {@link TieredPlanner} still compares it
 * with the heap-only plan.
 */
final class TieredDp {

    private static final long INF = Segments.INF;
    /**
     * The most (h, i, g, tier, capacity) steps the program may take (about a second): beyond it the
     * segments are limited in length, then the capacity unit coarsened.
     */
    static final long MAX_WORK = 200_000_000L;
    /** The most inner steps the heap sub-plans' {@link SlotDp} may take here (about a second). */
    static final long MAX_HEAP_WORK = 80_000_000L;
    /** The most values the program's tables may hold (a long and an int each: 48 MiB). */
    static final long MAX_REST_ENTRIES = 1L << 22;
    /** The shortest segment limit worth planning with; below it the {@code budget:} plan is the answer. */
    static final int MIN_SEGMENT = 4;

    private final int layers;
    private final int maxLength;  // the longest segment between checkpoints searched (L: all)
    private final SlotDp heap;
    private final long[] f;
    private final long[] gPrefix;
    private final long[] fPrefix;
    private final Tier[] tiers;
    private final long[][] w;
    private final long[][] r;
    private final int[][] units;  // [tier][l] capacity units of a^l's copy
    private final int[] dims;     // capacity states per tier (1 for an unbounded tier, but also for one that holds no unit)
    private final boolean[] unbounded; // the tier holds every possible checkpoint: no capacity dimension
    private final int states;
    private final long[][] rest;  // [h * L + i][capacity state]
    private final int[][] choice; // 0: g = 0 (or h = 0); else 1 + ((g * tiers + t) * 2 + prefetch)
    private final boolean exact;
    private long best = INF;
    private int bestCode; // see solveTop
    private long work;

    private TieredDp(Chain timeChain, long budget, StepTimes times, Tier[] tiers, SlotDp heap, boolean heapExact,
                     int maxLength) {
        final int L = timeChain.layers();
        this.layers = L;
        this.maxLength = maxLength;
        this.heap = heap;
        this.f = times.forwardArray();
        this.tiers = tiers;
        this.fPrefix = new long[L + 1];
        this.gPrefix = new long[L + 1];
        final long[] g = times.backwardArray();
        for (int l = 1; l <= L; l++) {
            fPrefix[l] = fPrefix[l - 1] + f[l];
            gPrefix[l] = gPrefix[l - 1] + g[l];
        }
        final int T = tiers.length;
        this.w = new long[T][];
        this.r = new long[T][];
        for (int t = 0; t < T; t++) {
            w[t] = new long[L + 1];
            r[t] = new long[L + 1];
            for (int l = 1; l <= L; l++) {
                w[t][l] = times.writeNanos(tiers[t], l);
                r[t][l] = times.readNanos(tiers[t], l);
            }
        }
        // Capacity units: the gcd of the copies that can be checkpoints (a^1 .. a^(L-1)), coarsened
        // (sizes rounded up, capacities down, so plans still fit) until the work fits.
        final long[] x = times.transferArray();
        final long exactUnit = exactUnit(x, L);
        final long qc = capacityUnit(times, tiers, L, maxLength);
        if (qc < 0) {
            throw new IllegalArgumentException("segments of " + maxLength + " layers exceed the work limit");
        }
        this.dims = new int[T];
        this.unbounded = new boolean[T];
        this.states = (int) capacityStates(times, tiers, L, qc, dims, unbounded);
        this.units = new int[T][L + 1];
        for (int t = 0; t < T; t++) {
            for (int l = 1; l < L; l++) {
                units[t][l] = (int) Math.min(Integer.MAX_VALUE / 4, ceilDiv(x[l], qc));
            }
        }
        this.exact = heapExact && qc == exactUnit && maxLength >= L;
        // Row h holds Rest(h, h + 1 .. h + maxLength): O(L * maxLength) references, not L^2.
        this.rest = new long[L * (maxLength + 1)][];
        this.choice = new int[L * (maxLength + 1)][];
    }

    /** The index of Rest(h, i) in {@link #rest}; i - h at most {@link #maxLength}. */
    private int at(int h, int i) {
        return h * (maxLength + 1) + (i - h);
    }

    /** Rest(h, i)'s values, or null (all infinite) for a segment longer than {@link #maxLength}. */
    private long[] restOf(int h, int i) {
        return i - h > maxLength ? null : rest[at(h, i)];
    }

    /**
     * The (h, i, g) triples of {@link #fill} with 1 &le; g &lt; h &lt; i &lt; L, i &minus; h and h &minus; g at
     * most {@code k}: its work per tier and capacity state, in O(L).
     */
    static long triples(int L, int k) {
        long n = 0;
        for (int h = 1; h < L - 1; h++) {
            n += (long) Math.min(k, L - 1 - h) * Math.min(k, h - 1);
        }
        return n;
    }

    private static long exactUnit(long[] x, int L) {
        long q = 0;
        for (int l = 1; l < L; l++) {
            q = gcd(q, x[l]);
        }
        return Math.max(1, q);
    }

    /**
     * The capacity states for unit qc (their product over the tiers), with each tier's count in
     * {@code dims} and whether it is unbounded. Unbounded is a property of the tier in bytes (it holds
     * every possible checkpoint at once), not of the dimension's size: a bounded tier coarsened past
     * its capacity has one state, 0 units free, and takes nothing.
     */
    private static long capacityStates(StepTimes times, Tier[] tiers, int L, long qc, int[] dims, boolean[] unbounded) {
        final long[] x = times.transferArray();
        long total = 0;
        for (int l = 1; l < L; l++) {
            total += x[l];
        }
        long c = 1;
        for (int t = 0; t < tiers.length; t++) {
            final long cap = times.capacityBytes(tiers[t]);
            unbounded[t] = cap >= total;
            dims[t] = unbounded[t] ? 1 : (int) Math.min(Integer.MAX_VALUE / 4, cap / qc + 1);
            c = Math.min(Long.MAX_VALUE / 4, c * dims[t]);
        }
        return c;
    }

    /**
     * The finest capacity unit (the copies' gcd, doubled) for which segments of at most {@code k}
     * layers keep the work within {@link #MAX_WORK} and the tables within {@link #MAX_REST_ENTRIES}, or -1.
     * It is never coarsened past the largest copy: beyond that every copy takes one unit and the
     * capacities only shrink, so a shorter segment limit is the better trade.
     */
    static long capacityUnit(StepTimes times, Tier[] tiers, int L, int k) {
        final long[] x = times.transferArray();
        long largest = 1;
        for (int l = 1; l < L; l++) {
            largest = Math.max(largest, x[l]);
        }
        final long per = Math.min(Long.MAX_VALUE / 4, triples(L, k) * Math.max(1, tiers.length));
        final int[] d = new int[tiers.length];
        final boolean[] u = new boolean[tiers.length];
        for (long qc = exactUnit(x, L); ; qc *= 2) {
            final long c = capacityStates(times, tiers, L, qc, d, u);
            // The tables hold L (k + 1) c values: bounded too, for planning inside a small heap.
            if (per <= MAX_WORK / c && (long) L * (k + 1) <= MAX_REST_ENTRIES / c) {
                return qc;
            }
            if (qc >= largest || qc > Long.MAX_VALUE / 4) {
                return -1;
            }
        }
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            final long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /**
     * Answers the program for {@code chain} (heap bytes) under {@code budget} with {@code times}, over
     * the tiers given (each in the times, with capacity above 0), or null if {@link SlotDp} cannot
     * serve the chain within its limits.
     */
    static TieredDp solve(Chain chain, long budget, StepTimes times, Tier[] tiers) {
        final int L = chain.layers();
        final long[] b = new long[L];
        final long[] c = new long[L];
        for (int l = 1; l <= L; l++) {
            b[l - 1] = chain.bytes(l);
            c[l - 1] = times.forwardNanos(l);
        }
        final Chain timeChain = Chain.of(b, c);
        // The finest quantum the slot limit allows: the table and work limits are met by shorter segments.
        final long q = SlotDp.choose(timeChain, budget, BudgetPlanner.DEFAULT_SLOT_LIMIT,
                Long.MAX_VALUE, Long.MAX_VALUE);
        if (q < 0) {
            return null;
        }
        boolean interiorUniform = true;
        for (int l = 2; l < L; l++) {
            interiorUniform &= chain.bytes(l) == chain.bytes(1);
        }
        // Long chains: the segments between checkpoints are limited to K layers so that both programs
        // take seconds, not minutes (O(L K^2) instead of O(L^3)). The plans with long segments are the
        // ones that recompute most, which the heap-only budget: plan TieredPlanner compares with covers.
        final int K = maxSegment(timeChain, budget, q, times, tiers);
        if (K < Math.min(L, MIN_SEGMENT)) {
            return null;
        }
        final SlotDp heap = SlotDp.solve(timeChain, budget, q, K);
        final TieredDp dp = new TieredDp(timeChain, budget, times, tiers, heap,
                interiorUniform && q == SlotDp.gcd(timeChain), K);
        dp.fill();
        return dp;
    }

    /**
     * The longest segment (at most L) for which {@link SlotDp} with quantum q and this program stay
     * within {@link #MAX_HEAP_WORK}, the table limit, {@link #MAX_WORK} and {@link #MAX_REST_ENTRIES}
     * (with a capacity unit at most the largest copy): a binary search on O(L &middot; K) estimates.
     */
    static int maxSegment(Chain timeChain, long budget, long q, StepTimes times, Tier[] tiers) {
        final int L = timeChain.layers();
        int lo = 1;
        int hi = L;
        while (lo < hi) {
            final int mid = (lo + hi + 1) >>> 1;
            final long[] est = SlotDp.estimate(timeChain, budget, q, mid);
            if (est[1] <= MAX_HEAP_WORK && est[0] <= DpLimits.MAX_PERSISTENT_TABLE_ENTRIES
                    && capacityUnit(times, tiers, L, mid) >= 0) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo;
    }

    /** Answers the longest segment the program searched (the chain's length when all). */
    int maxLength() {
        return maxLength;
    }

    /** Answers the least predicted step time in the family, in nanoseconds. */
    long time() {
        return best;
    }

    /** Whether the capacity and heap quanta lost nothing (then {@link #time()} is the family's optimum). */
    boolean exact() {
        return exact;
    }

    /** Answers the inner steps taken. */
    long work() {
        return work;
    }

    private long tf(int h, int i, long e) {
        final long v = heap.keepCost(h, i, e);
        return v >= INF ? INF : v + gPrefix[i] - gPrefix[h];
    }

    private long tn(int i, long e) {
        final long v = heap.dropCost(i, layers, e);
        return v >= INF ? INF : v + gPrefix[layers] - gPrefix[i];
    }

    /** A segment of compute time t0 (t with the prefetch's deficit) followed by a read of rd. */
    private static long seg(long t0, long te, long rd) {
        final long pre = te >= INF ? INF : Math.max(te, rd);
        final long post = t0 >= INF ? INF : t0 + rd;
        return Math.min(pre, post);
    }

    private long stall(int t, int g) {
        return Math.max(0, w[t][g] - f[g + 1]);
    }

    /** The capacity state after a^g goes to tier t, or -1 if it does not fit. */
    private int take(int c, int t, int g) {
        if (unbounded[t]) {
            return c;
        }
        int stride = 1;
        for (int u = t + 1; u < tiers.length; u++) {
            stride *= dims[u];
        }
        final int have = c / stride % dims[t];
        return have >= units[t][g] ? c - units[t][g] * stride : -1;
    }

    private void fill() {
        final int L = layers;
        final int T = tiers.length;
        final int K = maxLength;
        for (int h = 0; h < L - 1; h++) {
            for (int i = h + 1; i < Math.min(L, h + K + 1); i++) {
                final long[] v = new long[states];
                final int[] ch = new int[states];
                rest[at(h, i)] = v;
                choice[at(h, i)] = ch;
                final long t0 = tf(h, i, 0);
                if (h == 0) {
                    java.util.Arrays.fill(v, t0);
                    continue;
                }
                final long[] left0 = restOf(0, h); // Rest(0, h)
                for (int c = 0; c < states; c++) {
                    v[c] = t0 >= INF || left0 == null || left0[c] >= INF ? INF : t0 + left0[c];
                }
                for (int g = Math.max(1, h - K); g < h; g++) {
                    final long te = tf(h, i, heap.slots(g));
                    final long[] left = rest[at(g, h)];
                    for (int t = 0; t < T; t++) {
                        final long sg = seg(t0, te, r[t][g]);
                        if (sg >= INF) {
                            continue;
                        }
                        final long base = stall(t, g) + sg;
                        for (int c = 0; c < states; c++) {
                            final int c2 = take(c, t, g);
                            if (c2 < 0 || left[c2] >= INF) {
                                continue;
                            }
                            final long val = base + left[c2];
                            if (val < v[c]) {
                                v[c] = val;
                                ch[c] = 1 + (g * T + t) * 2 + (Math.max(te, r[t][g]) <= t0 + r[t][g] && te < INF ? 1 : 0);
                            }
                        }
                        work += states;
                    }
                }
            }
        }
        // The step: bestCode 0 = heap only (k = 0); 1 + i * (L) ... see emit.
        final int full = states - 1;
        best = tn(0, 0);
        bestCode = 0;
        for (int i = Math.max(1, L - K); i < L; i++) {
            final long a = fPrefix[i];
            final long n0 = tn(i, 0);
            final long[] r0 = restOf(0, i); // Rest(0, i)
            if (n0 < INF && r0 != null && r0[full] < INF && a + n0 + r0[full] < best) {
                best = a + n0 + r0[full];
                bestCode = encodeTop(i, 0, 0, 0);
            }
            for (int h = Math.max(1, i - K); h < i; h++) {
                final long ne = tn(i, heap.slots(h));
                final long[] left = rest[at(h, i)];
                for (int t = 0; t < T; t++) {
                    final long sg = seg(n0, ne, r[t][h]);
                    final int c2 = take(full, t, h);
                    if (sg >= INF || c2 < 0 || left[c2] >= INF) {
                        continue;
                    }
                    final long val = a + stall(t, h) + sg + left[c2];
                    if (val < best) {
                        best = val;
                        bestCode = encodeTop(i, h, t, Math.max(ne, r[t][h]) <= n0 + r[t][h] && ne < INF ? 1 : 0);
                    }
                }
            }
        }
    }

    private int encodeTop(int i, int h, int t, int prefetch) {
        return 1 + ((i * layers + h) * tiers.length + t) * 2 + prefetch;
    }

    /** One segment of the schedule, in the order the backward part runs them. */
    private record Segment(int from, int to, int next, int tier, boolean prefetch) {
    }

    /** Writes the plan of {@link #time()} into {@code out} and builds it. */
    Plan emit(Plan.Builder out) {
        final int L = layers;
        final PlanEmitter e = PlanEmitter.into(out);
        if (bestCode == 0) {
            e.run(heap, 0, Kind.N, 0, L, 0, 0);
            return out.build();
        }
        int code = bestCode - 1;
        final int topPrefetch = code % 2;
        code /= 2;
        final int topTier = code % tiers.length;
        code /= tiers.length;
        final int topH = code % L;
        final int ck = code / L;
        // The chain of choices: segments right to left, and which checkpoints go to which tier.
        final List<Segment> segments = new ArrayList<>();
        final int[] tierOf = new int[L + 1];
        java.util.Arrays.fill(tierOf, -1);
        segments.add(new Segment(ck, L, topH, topTier, topPrefetch == 1));
        int c = states - 1;
        int h = topH;
        int i = ck;
        if (h > 0) {
            tierOf[h] = topTier;
            c = take(c, topTier, h);
        }
        while (h > 0) {
            final int ch = choice[at(h, i)][c];
            if (ch == 0) {
                segments.add(new Segment(h, i, 0, 0, false));
                i = h;
                h = 0;
                break;
            }
            int x = ch - 1;
            final boolean pf = x % 2 == 1;
            x /= 2;
            final int t = x % tiers.length;
            final int g = x / tiers.length;
            segments.add(new Segment(h, i, g, t, pf));
            tierOf[g] = t;
            c = take(c, t, g);
            i = h;
            h = g;
        }
        segments.add(new Segment(0, i, 0, 0, false));
        // The forward sweep: F l, D l-1, and W l for the written checkpoints.
        for (int l = 1; l <= ck; l++) {
            out.forward(l);
            if (l >= 2) {
                out.drop(l - 1);
            }
            if (tierOf[l] >= 0) {
                out.write(l, tiers[tierOf[l]]);
            }
        }
        for (Segment s : segments) {
            final boolean read = s.next > 0;
            final int deficit = read && s.prefetch ? heap.slots(s.next) : 0;
            if (read && s.prefetch) {
                out.read(s.next);
            }
            e.run(heap, 0, s.to == L ? Kind.N : Kind.F, s.from, s.to, deficit, 0);
            if (read && !s.prefetch) {
                out.read(s.next);
            }
            if (s.to != L && s.from > 0) {
                out.discard(s.from);
            }
        }
        return out.build();
    }
}
