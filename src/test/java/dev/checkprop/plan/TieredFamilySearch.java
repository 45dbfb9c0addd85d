package dev.checkprop.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * The fastest plan of the two-level family by brute force, knowing nothing of {@link TieredDp}: every
 * set of checkpoints, every tier for each written one and every choice of prefetching its read, each
 * segment's sub-plan found by Dijkstra over its own states (live set, backward position), the whole
 * plan built as a {@link Plan} (so the checker validates it), its heap peak taken from
 * {@link PlanChecker#measure} and its time and tier bytes from {@link StepTimes#predict}, the
 * definition. The heap-only optimum ({@link WeightedSearch} on forward times) is one candidate.
 */
final class TieredFamilySearch {

    /** The least predicted time of any plan of the family within the budget and capacities. */
    final long time;
    /** A plan reaching it. */
    final Plan witness;
    /** How many complete plans were simulated. */
    final int plans;

    private final Chain chain;
    private final long budget;
    private final StepTimes times;
    private final Map<String, String> segments = new HashMap<>();

    TieredFamilySearch(Chain chain, long budget, StepTimes times, Tier[] tiers) {
        this.chain = chain;
        this.budget = budget;
        this.times = times;
        final int L = chain.layers();
        final long[] f = new long[L];
        final long[] b = new long[L];
        for (int l = 1; l <= L; l++) {
            f[l - 1] = times.forwardNanos(l);
            b[l - 1] = chain.bytes(l);
        }
        final WeightedSearch heapOnly = new WeightedSearch(Chain.of(b, f), budget);
        Plan bestPlan = Plan.parse("heap", L, heapOnly.witness);
        long best = times.predict(bestPlan).totalNanos();
        int count = 1;
        // Checkpoint sets as bit masks over 1..L-1; the highest one stays in the heap.
        for (int set = 1; set < 1 << (L - 1); set++) {
            final int[] c = new int[Integer.bitCount(set)];
            for (int l = 1, n = 0; l < L; l++) {
                if ((set & 1 << (l - 1)) != 0) {
                    c[n++] = l;
                }
            }
            final int written = c.length - 1;
            final int choices = (int) Math.pow(2 * tiers.length, written);
            for (int x = 0; x < choices; x++) {
                final int[] tierOf = new int[written];
                final boolean[] prefetch = new boolean[written];
                for (int m = 0, y = x; m < written; m++, y /= 2 * tiers.length) {
                    tierOf[m] = y % (2 * tiers.length) / 2;
                    prefetch[m] = y % 2 == 1;
                }
                final String text = assemble(c, tierOf, prefetch, tiers);
                if (text == null) {
                    continue;
                }
                final Plan p = Plan.parse("family", L, text);
                if (p.cost(chain).peakBytes() > budget) {
                    continue;
                }
                final StepTimes.Prediction pr = times.predict(p);
                boolean fits = true;
                for (Tier t : tiers) {
                    fits &= pr.peakHeld(t) <= times.capacityBytes(t);
                }
                count++;
                if (fits && pr.totalNanos() < best) {
                    best = pr.totalNanos();
                    bestPlan = p;
                }
            }
        }
        this.time = best;
        this.witness = bestPlan;
        this.plans = count;
    }

    /** The plan text of one member of the family, or null if a segment has no sub-plan in the budget. */
    private String assemble(int[] c, int[] tierOf, boolean[] prefetch, Tier[] tiers) {
        final int L = chain.layers();
        final int k = c.length;
        final StringBuilder sb = new StringBuilder();
        for (int l = 1; l <= c[k - 1]; l++) {
            sb.append(" F").append(l);
            if (l >= 2) {
                sb.append(" D").append(l - 1);
            }
            for (int m = 0; m < k - 1; m++) {
                if (c[m] == l) {
                    sb.append(" W").append(l).append('@').append(tiers[tierOf[m]].text());
                }
            }
        }
        // Segments right to left: (c_k, L], (c_(k-1), c_k], ..., (0, c_1].
        for (int s = k; s >= 0; s--) {
            final int from = s == 0 ? 0 : c[s - 1];
            final int to = s == k ? L : c[s];
            final int nextIndex = s - 2; // index in c of the start of the segment that follows
            final int next = s >= 2 ? c[s - 2] : 0;
            final boolean pf = next > 0 && prefetch[nextIndex];
            final long deficit = pf ? chain.bytes(next) : 0;
            if (pf) {
                sb.append(" R").append(next);
            }
            final String sub = segment(from, to, to != L, budget - (from == 0 ? 0 : chain.bytes(from)) - deficit);
            if (sub == null) {
                return null;
            }
            sb.append(' ').append(sub);
            if (next > 0 && !pf) {
                sb.append(" R").append(next);
            }
            if (to != L && from > 0) {
                sb.append(" X").append(from);
            }
        }
        return sb.toString();
    }

    /**
     * One optimal sub-plan for segment (h, j] (forward time; its backward time is fixed): a^h live and
     * not counted, a^j live at the start if {@code keep} (then the next step is {@code B j}), else not yet
     * computed ({@code LOSS} when it is a^L); at most {@code room} bytes of (h, j] live after each forward.
     */
    private String segment(int h, int j, boolean keep, long room) {
        final String key = h + " " + j + " " + keep + " " + room;
        if (segments.containsKey(key)) {
            return segments.get(key);
        }
        final String sub = search(h, j, keep, room);
        segments.put(key, sub);
        return sub;
    }

    private String search(int h, int j, boolean keep, long room) {
        final int d = j - h;
        final int positions = d + 2; // 0: a^j not reached yet; p + 1 for backward position h + p
        final long[] live = new long[1 << d];
        for (int m = 1; m < live.length; m++) {
            live[m] = live[m & (m - 1)] + chain.bytes(h + 1 + Integer.numberOfTrailingZeros(m));
        }
        final int top = 1 << (d - 1);
        final int start = keep ? top * positions + d + 1 : 0;
        if (keep && live[top] > room) {
            return null;
        }
        final int goal = 1; // nothing live, backward position h
        final long[] dist = new long[(1 << d) * positions];
        final int[] parent = new int[dist.length];
        final String[] how = new String[dist.length];
        Arrays.fill(dist, Long.MAX_VALUE);
        dist[start] = 0;
        final PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
        queue.add(new long[] {0, start});
        while (!queue.isEmpty()) {
            final long[] e = queue.poll();
            final int st = (int) e[1];
            if (e[0] > dist[st]) {
                continue;
            }
            if (st == goal) {
                break;
            }
            final int mask = st / positions;
            final int p = st % positions;
            for (int m = 1; m <= d; m++) {
                final int bit = 1 << (m - 1);
                final boolean inputLive = m == 1 || (mask & 1 << (m - 2)) != 0;
                if ((mask & bit) != 0) {
                    WeightedSearch.relax(dist, parent, how, queue, st, (mask & ~bit) * positions + p, e[0], "D" + (h + m));
                } else if (inputLive && live[mask | bit] <= room) {
                    WeightedSearch.relax(dist, parent, how, queue, st, (mask | bit) * positions + p, e[0] + times.forwardNanos(h + m),
                            "F" + (h + m));
                }
            }
            if (p == 0 && (mask & top) != 0) {
                WeightedSearch.relax(dist, parent, how, queue, st, mask * positions + d + 1, e[0], j == chain.layers() ? "LOSS" : "");
            }
            final int pos = p - 1;
            if (pos >= 1 && (mask & 1 << (pos - 1)) != 0 && (pos == 1 || (mask & 1 << (pos - 2)) != 0)) {
                WeightedSearch.relax(dist, parent, how, queue, st, mask * positions + p - 1, e[0], "B" + (h + pos));
            }
        }
        if (dist[goal] == Long.MAX_VALUE) {
            return null;
        }
        final List<String> actions = new ArrayList<>();
        for (int s = goal; s != start; s = parent[s]) {
            if (!how[s].isEmpty()) {
                actions.add(how[s]);
            }
        }
        Collections.reverse(actions);
        return String.join(" ", actions);
    }
}
