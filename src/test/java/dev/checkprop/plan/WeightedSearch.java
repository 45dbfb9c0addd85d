package dev.checkprop.plan;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The optimum by brute force, knowing nothing of the planners: Dijkstra over every state of the
 * memory model (live set of a<sup>1</sup>..a<sup>L</sup> as a bit mask, backward position, whether the
 * loss was taken), with cost(l) per {@code F l}, 0 per other action, and a forward allowed only if
 * the live bytes after it stay within the budget. {@link OptimalPlannerTest.ExhaustiveSearch}
 * generalised to weights and bytes.
 */
final class WeightedSearch {

    /** Minimum total forward cost, or -1 if no plan fits the budget. */
    final long cost;
    /** One optimal plan in text form (null if infeasible). */
    final String witness;

    WeightedSearch(Chain chain, long budget) {
        final int layers = chain.layers();
        final long[] b = new long[layers + 1];
        final long[] c = new long[layers + 1];
        for (int l = 1; l <= layers; l++) {
            b[l] = chain.bytes(l);
            c[l] = chain.cost(l);
        }
        final int positions = layers + 2; // 0 before the loss, position + 1 after it
        final int states = (1 << layers) * positions;
        final long[] live = new long[1 << layers];
        for (int m = 1; m < live.length; m++) {
            live[m] = live[m & (m - 1)] + b[Integer.numberOfTrailingZeros(m) + 1];
        }
        final long[] dist = new long[states];
        final int[] parent = new int[states];
        final String[] how = new String[states];
        Arrays.fill(dist, Long.MAX_VALUE);
        final PriorityQueue<long[]> queue = new PriorityQueue<>((x, y) -> Long.compare(x[0], y[0]));
        final int start = 0;
        final int goal = 1; // nothing live, position 0
        dist[start] = 0;
        queue.add(new long[] {0, start});
        while (!queue.isEmpty()) {
            final long[] top = queue.poll();
            final int st = (int) top[1];
            final long d = top[0];
            if (d > dist[st]) {
                continue;
            }
            if (st == goal) {
                break;
            }
            final int mask = st / positions;
            final int p = st % positions;
            for (int l = 1; l <= layers; l++) {
                final int bit = 1 << (l - 1);
                final boolean inputLive = l == 1 || (mask & (1 << (l - 2))) != 0;
                if ((mask & bit) != 0) {
                    relax(dist, parent, how, queue, st, (mask & ~bit) * positions + p, d, "D" + l);
                } else if (inputLive && live[mask | bit] <= budget) {
                    relax(dist, parent, how, queue, st, (mask | bit) * positions + p, d + c[l], "F" + l);
                }
            }
            if (p == 0 && (mask & (1 << (layers - 1))) != 0) {
                relax(dist, parent, how, queue, st, mask * positions + layers + 1, d, "LOSS");
            }
            final int position = p - 1;
            if (position >= 1 && (mask & (1 << (position - 1))) != 0
                    && (position == 1 || (mask & (1 << (position - 2))) != 0)) {
                relax(dist, parent, how, queue, st, mask * positions + p - 1, d, "B" + position);
            }
        }
        if (dist[goal] == Long.MAX_VALUE) {
            cost = -1;
            witness = null;
        } else {
            cost = dist[goal];
            final List<String> actions = new ArrayList<>();
            for (int s = goal; s != start; s = parent[s]) {
                actions.add(how[s]);
            }
            Collections.reverse(actions);
            witness = String.join(" ", actions);
        }
    }

    static void relax(long[] dist, int[] parent, String[] how, PriorityQueue<long[]> queue, int from, int to,
                              long d, String action) {
        if (d < dist[to]) {
            dist[to] = d;
            parent[to] = from;
            how[to] = action;
            queue.add(new long[] {d, to});
        }
    }

    /** Every distinct sum of sizes of a subset of layers: the budgets at which the optimum can change. */
    static long[] thresholds(Chain chain) {
        final int layers = chain.layers();
        final java.util.TreeSet<Long> sums = new java.util.TreeSet<>();
        for (int m = 0; m < 1 << layers; m++) {
            long s = 0;
            for (int l = 1; l <= layers; l++) {
                if ((m & (1 << (l - 1))) != 0) {
                    s += chain.bytes(l);
                }
            }
            sums.add(s);
        }
        return sums.stream().mapToLong(Long::longValue).toArray();
    }
}
