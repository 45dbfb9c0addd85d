package dev.checkprop.plan;

import java.util.Arrays;

/**
 * Nondecreasing step functions of a deficit D &ge; 0 (bytes held outside a subproblem), the cost
 * tables of the exact byte-budget dynamic program {@link SlideDp}.
 *
 * <p>A function is an interleaved array of breakpoints (t<sub>0</sub>, v<sub>0</sub>, t<sub>1</sub>,
 * v<sub>1</sub>, &hellip;) with t and v strictly increasing: its value is v<sub>s</sub> for
 * D in (t<sub>s-1</sub>, t<sub>s</sub>] (from 0 for s = 0) and {@link Segments#INF} past the last t. A
 * breakpoint is a deficit at which some plan stops fitting, so a function is exact for any byte
 * sizes, with no quantum. Sums, shifts, truncations and minima are merges of breakpoint lists.
 *
 * <p>When a function has more breakpoints than the slot limit S it is <em>thinned</em>: every t is
 * rounded down to a multiple of q = &lceil;(B+1)/S&rceil; (B the budget) and duplicates merged, leaving
 * at most S breakpoints. Rounding down only claims a plan fits in less deficit than it does, so every
 * value stays achievable within the budget (the plan stays feasible), but it may no longer be the
 * minimum; {@link #thinned()} records that it happened. This is the rounding of rotor's memory
 * quantum (Beaumont et al., "Optimal checkpointing for heterogeneous chains", 2019), applied only to
 * the functions that need it. Not thread-safe: one instance per planning call.
 */
final class StepFunctions {

    private static final long INF = Segments.INF;

    static final long[] EMPTY = new long[0];

    private final int slotLimit;
    private final long quantum;
    private final long workLimit;
    private long work;
    private long stored;
    private boolean thinned;

    /**
     * @param budget    B, the largest deficit that can matter
     * @param slotLimit S, the most breakpoints a stored function keeps
     * @param workLimit merged breakpoints after which {@link #exhausted()} turns true
     */
    StepFunctions(long budget, int slotLimit, long workLimit) {
        if (slotLimit < 1) {
            throw new IllegalArgumentException("slot limit must be >= 1, got " + slotLimit);
        }
        this.slotLimit = slotLimit;
        // Thresholds lie in [0, B]: floor(t / q) then takes at most floor(B / q) + 1 <= S values.
        this.quantum = Math.max(1, budget / slotLimit + 1);
        this.workLimit = workLimit;
    }

    /** Whether some function was thinned (the result may then not be optimal). */
    boolean thinned() {
        return thinned;
    }

    /** Whether the work limit has been passed. */
    boolean exhausted() {
        return work > workLimit;
    }

    /** The breakpoints merged so far: the measure of planning time. */
    long work() {
        return work;
    }

    /** The longs held by the functions stored so far: the measure of planning memory. */
    long stored() {
        return stored;
    }

    /** Answers a scratch array able to hold {@code points} breakpoints, reusing {@code buf} if it can. */
    static long[] ensure(long[] buf, int points) {
        return buf.length >= 2 * points ? buf : new long[Math.max(2 * points, 2 * buf.length)];
    }

    /**
     * Writes h(D) = adv + f(D) + g(D + shift), restricted to 0 &le; D &le; cap, into {@code out}
     * (room for nf + ng points) and answers its number of breakpoints; f and g hold nf and ng.
     */
    int sum(long[] f, int nf, long[] g, int ng, long shift, long adv, long cap, long[] out) {
        int ia = 0;
        int ib = 0;
        int n = 0;
        final int na = 2 * nf;
        final int nb = 2 * ng;
        if (cap >= 0) {
            while (ia < na && ib < nb) {
                final long ta = f[ia];
                final long tb = g[ib] - shift;
                final long x = Math.min(ta, tb);
                final long v = adv + f[ia + 1] + g[ib + 1];
                if (x >= 0) {
                    if (x >= cap) {
                        n = append(out, n, cap, v);
                        break;
                    }
                    n = append(out, n, x, v);
                }
                if (ta == x) {
                    ia += 2;
                }
                if (tb == x) {
                    ib += 2;
                }
            }
        }
        work += (ia + ib) / 2 + 1;
        return n;
    }

    /**
     * Writes h(D) = adv + f(D + shift), restricted to 0 &le; D &le; cap, into {@code out} (room for
     * nf points) and answers its number of breakpoints; f holds nf.
     */
    int shift(long[] f, int nf, long shift, long adv, long cap, long[] out) {
        int n = 0;
        int i = 0;
        if (cap >= 0) {
            for (; i < 2 * nf; i += 2) {
                final long x = f[i] - shift;
                if (x < 0) {
                    continue;
                }
                if (x >= cap) {
                    n = append(out, n, cap, f[i + 1] + adv);
                    break;
                }
                n = append(out, n, x, f[i + 1] + adv);
            }
        }
        work += i / 2 + 1;
        return n;
    }

    /**
     * Writes min(p, q) pointwise into {@code out} (room for np + nq points) and answers its number of
     * breakpoints; p and q hold np and nq breakpoints.
     */
    int min(long[] p, int np, long[] q, int nq, long[] out) {
        int ip = 0;
        int iq = 0;
        int n = 0;
        final int ep = 2 * np;
        final int eq = 2 * nq;
        while (ip < ep || iq < eq) {
            final long tp = ip < ep ? p[ip] : Long.MAX_VALUE;
            final long tq = iq < eq ? q[iq] : Long.MAX_VALUE;
            final long x = Math.min(tp, tq);
            final long v = Math.min(ip < ep ? p[ip + 1] : INF, iq < eq ? q[iq + 1] : INF);
            n = append(out, n, x, v);
            if (tp == x) {
                ip += 2;
            }
            if (tq == x) {
                iq += 2;
            }
        }
        work += (ip + iq) / 2 + 1;
        return n;
    }

    /**
     * Appends breakpoint (x, v) after {@code n} points whose values do not exceed v: an equal value
     * extends the last step instead.
     */
    private static int append(long[] out, int n, long x, long v) {
        if (n > 0 && out[2 * n - 1] == v) {
            out[2 * n - 2] = x;
            return n;
        }
        out[2 * n] = x;
        out[2 * n + 1] = v;
        return n + 1;
    }

    /**
     * Answers a right-sized copy of the first {@code n} breakpoints of {@code pts}, thinned to at most
     * S if there are more (rewriting {@code pts}).
     */
    long[] store(long[] pts, int n) {
        if (n == 0) {
            return EMPTY;
        }
        if (n <= slotLimit) {
            stored += 2 * n;
            return Arrays.copyOf(pts, 2 * n);
        }
        thinned = true;
        final long q = quantum;
        int m = 0;
        for (int s = 0; s < n; s++) {
            final long x = pts[2 * s] / q * q;
            // Breakpoints that share a rounded threshold: the first (cheapest) holds for all of them.
            if (m > 0 && pts[2 * m - 2] == x) {
                continue;
            }
            pts[2 * m] = x;
            pts[2 * m + 1] = pts[2 * s + 1];
            m++;
        }
        stored += 2 * m;
        return Arrays.copyOf(pts, 2 * m);
    }

    /** f(D): the value of the first breakpoint at or after D, or {@link Segments#INF}. */
    static long eval(long[] f, long d) {
        if (d < 0) {
            return INF;
        }
        int lo = 0;
        int hi = f.length / 2;
        while (lo < hi) {
            final int mid = (lo + hi) >>> 1;
            if (f[2 * mid] < d) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo < f.length / 2 ? f[2 * lo + 1] : INF;
    }

    /** The zero function on every deficit, to reuse the sum's dominance check for shifts. */
    private static final long[] ZERO = {Long.MAX_VALUE / 2, 0};

    /** Answers an empty accumulator of minima over this instance. */
    Acc acc() {
        return new Acc();
    }

    /** A running pointwise minimum of step functions, with its own scratch. */
    final class Acc {
        private long[] pts = new long[64];
        private int n;
        private long[] tmp = new long[64];
        private long[] cand = new long[64];

        /** Empties it. */
        void clear() {
            n = 0;
        }

        /** Answers its number of breakpoints. */
        int size() {
            return n;
        }

        /** Answers its breakpoints (the first {@link #size()}); valid until the next change. */
        long[] points() {
            return pts;
        }

        /** Takes the minimum with adv + f(D + shift) for D &le; cap. */
        void addShift(long[] f, int nf, long shift, long adv, long cap) {
            if (nf == 0 || cap < 0 || dominated(adv + f[1], Math.min(cap, f[2 * nf - 2] - shift))) {
                return;
            }
            if (n > 0 && sumDominated(ZERO, 1, f, nf, shift, adv, cap)) {
                return;
            }
            cand = ensure(cand, nf);
            merge(shift(f, nf, shift, adv, cap, cand));
        }

        /** Takes the minimum with adv + f(D) + g(D + shift) for D &le; cap. */
        void addSum(long[] f, int nf, long[] g, int ng, long shift, long adv, long cap) {
            if (nf == 0 || ng == 0 || cap < 0
                    || dominated(adv + f[1] + g[1], Math.min(cap, Math.min(f[2 * nf - 2], g[2 * ng - 2] - shift)))) {
                return;
            }
            if (n > 0 && sumDominated(f, nf, g, ng, shift, adv, cap)) {
                return;
            }
            cand = ensure(cand, nf + ng);
            merge(sum(f, nf, g, ng, shift, adv, cap, cand));
        }

        /**
         * Whether adv + f(D) + g(D + shift) (D &le; cap) is nowhere below the minimum: checked at the
         * candidate's breakpoints (both are nondecreasing), reading only, which is cheaper than
         * building and merging a candidate that changes nothing, the common case.
         */
        private boolean sumDominated(long[] f, int nf, long[] g, int ng, long shift, long adv, long cap) {
            int ia = 0;
            int ib = 0;
            int ip = 0;
            final int na = 2 * nf;
            final int nb = 2 * ng;
            final int np = 2 * n;
            final long[] p = pts;
            while (ia < na && ib < nb) {
                final long ta = f[ia];
                final long tb = g[ib] - shift;
                long x = Math.min(ta, tb);
                if (x >= 0) {
                    final boolean last = x >= cap;
                    if (last) {
                        x = cap;
                    }
                    if (ip < np && p[ip] < x) {
                        ip = seek(p, ip, np, x);
                    }
                    if (ip == np || p[ip + 1] > adv + f[ia + 1] + g[ib + 1]) {
                        work += (ia + ib + ip) / 2 + 1;
                        return false;
                    }
                    if (last) {
                        break;
                    }
                }
                if (ta == x) {
                    ia += 2;
                }
                if (tb == x) {
                    ib += 2;
                }
            }
            work += (ia + ib + ip) / 2 + 1;
            return true;
        }

        /**
         * Whether a candidate defined at most up to {@code end} and nowhere below {@code low} cannot
         * improve the minimum: the minimum is already at most {@code low} at {@code end}, hence
         * everywhere before (it is nondecreasing). Skipping it saves building and merging it.
         */
        private boolean dominated(long low, long end) {
            if (end < 0) {
                return true;
            }
            if (n == 0 || pts[2 * n - 2] < end) {
                return false;
            }
            int lo = 0;
            int hi = n - 1;
            while (lo < hi) { // first breakpoint at or after end
                final int mid = (lo + hi) >>> 1;
                if (pts[2 * mid] < end) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return pts[2 * lo + 1] <= low;
        }

        /**
         * Answers the first even index in [from, end) whose threshold is at least x (end if none),
         * given p[from] &lt; x: galloping, then bisection, since candidates are usually much shorter
         * than the minimum they are checked against.
         */
        private static int seek(long[] p, int from, int end, long x) {
            int lo = from; // p[lo] < x
            int step = 2;
            int hi = from + step;
            while (hi < end && p[hi] < x) {
                lo = hi;
                step <<= 1;
                hi = lo + step;
            }
            hi = Math.min(hi, end); // p[hi] >= x or hi == end
            while (hi - lo > 2) {
                final int mid = lo + (((hi - lo) >>> 2) << 1);
                if (p[mid] < x) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return hi;
        }

        private void merge(int nc) {
            if (nc == 0) {
                return;
            }
            tmp = ensure(tmp, n + nc);
            n = min(pts, n, cand, nc, tmp);
            final long[] t = pts;
            pts = tmp;
            tmp = t;
        }

        /** Answers a stored copy (thinned if too long) and empties it. */
        long[] store() {
            final long[] out = StepFunctions.this.store(pts, n);
            n = 0;
            return out;
        }
    }
}
