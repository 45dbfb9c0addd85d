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
 * capacity states, after {@link SlotDp}'s O(L<sup>3</sup>&middot;S); beyond a work limit the capacity unit is
 * coarsened (sizes rounded up, so plans still fit) and the result marked inexact.
 */
final class TieredDp {

    private static final long INF = Segments.INF;
    /** The most (h, i, g, tier, capacity) steps the exact capacity counting may take. */
    static final long MAX_WORK = 400_000_000L;

    private final int layers;
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

    private TieredDp(Chain timeChain, long budget, StepTimes times, Tier[] tiers, SlotDp heap, boolean heapExact) {
        final int L = timeChain.layers();
        this.layers = L;
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
        // (sizes rounded up, capacities down) until the work fits.
        final long[] x = times.transferArray();
        long qc = 0;
        long total = 0;
        for (int l = 1; l < L; l++) {
            qc = gcd(qc, x[l]);
            total += x[l];
        }
        qc = Math.max(1, qc);
        final long exactUnit = qc;
        this.unbounded = new boolean[T];
        while (true) {
            int[] d = new int[T];
            long c = 1;
            for (int t = 0; t < T; t++) {
                final long cap = times.capacityBytes(tiers[t]);
                long need = 0;
                for (int l = 1; l < L; l++) {
                    need += ceilDiv(x[l], qc);
                }
                // Unbounded is a property of the tier, not of the dimension's size: coarsened past its
                // capacity, a bounded tier has one state (0 units free) and must take nothing.
                unbounded[t] = cap >= total && cap / qc >= need;
                d[t] = unbounded[t] ? 1 : (int) Math.min(Integer.MAX_VALUE / 4, cap / qc + 1);
                c = Math.min(Long.MAX_VALUE / 4, c * d[t]);
            }
            final long est = (long) L * L * L / 6 * Math.max(1, T) * c;
            if (est <= MAX_WORK || c == 1) {
                this.dims = d;
                this.states = (int) c;
                break;
            }
            qc *= 2;
        }
        this.units = new int[T][L + 1];
        for (int t = 0; t < T; t++) {
            for (int l = 1; l < L; l++) {
                units[t][l] = (int) Math.min(Integer.MAX_VALUE / 4, ceilDiv(x[l], qc));
            }
        }
        this.exact = heapExact && qc == exactUnit;
        this.rest = new long[L * L][];
        this.choice = new int[L * L][];
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
        final long q = SlotDp.choose(timeChain, budget, BudgetPlanner.DEFAULT_SLOT_LIMIT,
                DpLimits.MAX_PERSISTENT_TABLE_ENTRIES, DpLimits.MAX_PERSISTENT_WORK);
        if (q < 0) {
            return null;
        }
        boolean interiorUniform = true;
        for (int l = 2; l < L; l++) {
            interiorUniform &= chain.bytes(l) == chain.bytes(1);
        }
        final SlotDp heap = SlotDp.solve(timeChain, budget, q);
        final TieredDp dp = new TieredDp(timeChain, budget, times, tiers, heap,
                interiorUniform && q == SlotDp.gcd(timeChain));
        dp.fill();
        return dp;
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
        for (int h = 0; h < L - 1; h++) {
            for (int i = h + 1; i < L; i++) {
                final long[] v = new long[states];
                final int[] ch = new int[states];
                rest[h * L + i] = v;
                choice[h * L + i] = ch;
                final long t0 = tf(h, i, 0);
                if (h == 0) {
                    java.util.Arrays.fill(v, t0);
                    continue;
                }
                final long[] left0 = rest[h]; // Rest(0, h) = rest[0 * L + h]
                for (int c = 0; c < states; c++) {
                    v[c] = t0 >= INF || left0[c] >= INF ? INF : t0 + left0[c];
                }
                for (int g = 1; g < h; g++) {
                    final long te = tf(h, i, heap.slots(g));
                    final long[] left = rest[g * L + h];
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
        for (int i = 1; i < L; i++) {
            final long a = fPrefix[i];
            final long n0 = tn(i, 0);
            final long[] r0 = rest[i]; // Rest(0, i)
            if (n0 < INF && r0[full] < INF && a + n0 + r0[full] < best) {
                best = a + n0 + r0[full];
                bestCode = encodeTop(i, 0, 0, 0);
            }
            for (int h = 1; h < i; h++) {
                final long ne = tn(i, heap.slots(h));
                final long[] left = rest[h * L + i];
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
            final int ch = choice[h * L + i][c];
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
