package dev.checkprop.plan;

import it.unimi.dsi.fastutil.ints.IntArrayFIFOQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OptimalPlannerTest {

    /**
     * The optimum by brute force, knowing nothing of the planner: a 0-1 breadth-first search over
     * every state of the memory model (live set of a^1..a^L as a bit mask, backward position, whether
     * the loss was taken), with cost 1 per forward and 0 per other action.
     */
    static final class ExhaustiveSearch {
        final int layers;
        final int maxLive;
        /** Minimum forward evaluations, or -1 if no plan fits in {@code maxLive} buffers. */
        final int cost;
        /** One optimal plan in text form (null if infeasible). */
        final String witness;

        // State = mask * P + p, where p = 0 before the loss and p = position + 1 after it.
        private final int positions;
        private final int[] dist;
        private final int[] parent;
        private final String[] how;

        ExhaustiveSearch(int layers, int maxLive) {
            this.layers = layers;
            this.maxLive = maxLive;
            this.positions = layers + 2;
            final int states = (1 << layers) * positions;
            dist = new int[states];
            parent = new int[states];
            how = new String[states];
            Arrays.fill(dist, Integer.MAX_VALUE);
            final int start = 0;
            final int goal = 1; // nothing live, position 0
            int[] deque = new int[4 * states + 8];
            int head = 2 * states + 4;
            int tail = head;
            dist[start] = 0;
            deque[tail++] = start;
            boolean[] done = new boolean[states];
            while (head < tail) {
                final int st = deque[head++];
                if (done[st]) {
                    continue;
                }
                done[st] = true;
                final int mask = st / positions;
                final int p = st % positions;
                final int d = dist[st];
                final int live = Integer.bitCount(mask);
                for (int l = 1; l <= layers; l++) {
                    final int bit = 1 << (l - 1);
                    final boolean inputLive = l == 1 || (mask & (1 << (l - 2))) != 0;
                    if ((mask & bit) != 0) {
                        if (relax(st, (mask & ~bit) * positions + p, d, "D" + l)) {
                            deque[--head] = (mask & ~bit) * positions + p;
                        }
                    } else if (inputLive && live < maxLive) {
                        if (relax(st, (mask | bit) * positions + p, d + 1, "F" + l)) {
                            deque[tail++] = (mask | bit) * positions + p;
                        }
                    }
                }
                if (p == 0 && (mask & (1 << (layers - 1))) != 0) {
                    if (relax(st, mask * positions + layers + 1, d, "LOSS")) {
                        deque[--head] = mask * positions + layers + 1;
                    }
                }
                final int position = p - 1;
                if (position >= 1 && (mask & (1 << (position - 1))) != 0
                        && (position == 1 || (mask & (1 << (position - 2))) != 0)) {
                    if (relax(st, mask * positions + p - 1, d, "B" + position)) {
                        deque[--head] = mask * positions + p - 1;
                    }
                }
            }
            if (dist[goal] == Integer.MAX_VALUE) {
                cost = -1;
                witness = null;
            } else {
                cost = dist[goal];
                List<String> actions = new ArrayList<>();
                for (int s = goal; s != start; s = parent[s]) {
                    actions.add(how[s]);
                }
                Collections.reverse(actions);
                witness = String.join(" ", actions);
            }
        }

        private boolean relax(int from, int to, int d, String action) {
            if (d < dist[to]) {
                dist[to] = d;
                parent[to] = from;
                how[to] = action;
                return true;
            }
            return false;
        }
    }

    /** The proof of optimality for small chains: the planner's count equals the exhaustive minimum. */
    @Test
    void equalsExhaustiveSearchForEveryChainUpToTenLayersAndEveryBudget() {
        for (int layers = 1; layers <= 10; layers++) {
            for (int m = 1; m <= layers + 1; m++) {
                ExhaustiveSearch search = new ExhaustiveSearch(layers, m);
                String what = "L=" + layers + " M=" + m;
                final int l = layers;
                final int mm = m;
                if (search.cost < 0) {
                    assertTrue(m < OptimalPlanner.minBuffers(layers), what + ": search finds no plan");
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> new OptimalPlanner(mm).plan(l));
                    assertEquals("optimal:" + m + " cannot serve " + layers + " layers: at least "
                            + OptimalPlanner.minBuffers(layers) + " live buffers are needed", e.getMessage());
                    assertThrows(IllegalArgumentException.class, () -> OptimalPlanner.minEvaluations(l, mm));
                    continue;
                }
                assertTrue(m >= OptimalPlanner.minBuffers(layers), what + ": search finds a plan");
                // The search's own witness is a valid plan of that cost: the search models what the checker checks.
                Plan witness = Plan.parse("search", layers, search.witness);
                assertEquals(search.cost, witness.stats().forwardEvaluations(), what);
                assertTrue(witness.stats().peakLiveBuffers() <= m, what);

                assertEquals(search.cost, OptimalPlanner.minEvaluations(layers, m), what);
                Plan p = new OptimalPlanner(m).plan(layers);
                assertEquals(search.cost, p.stats().forwardEvaluations(), what);
                assertTrue(p.stats().peakLiveBuffers() <= m, what + ": peak " + p.stats().peakLiveBuffers());
            }
        }
    }

    @Test
    void minimumBuffers() {
        assertEquals(1, OptimalPlanner.minBuffers(1));
        assertEquals(2, OptimalPlanner.minBuffers(2));
        assertEquals(2, OptimalPlanner.minBuffers(1_000_000));
        assertThrows(IllegalArgumentException.class, () -> OptimalPlanner.minBuffers(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new OptimalPlanner(1).plan(5));
        assertEquals("optimal:1 cannot serve 5 layers: at least 2 live buffers are needed", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new OptimalPlanner(0));
        assertEquals("optimal:M needs M >= 1, got 0", e.getMessage());
        assertEquals(1, OptimalPlanner.minEvaluations(1, 1));
        assertEquals(6, new OptimalPlanner(6).maxBuffers());
    }

    /**
     * The recurrences exactly as stated in the class documentation, every split scanned: the
     * planner's bisection over convex costs must give the same numbers.
     */
    static long[][] referenceDp(int maxL, int maxM) {
        final long inf = Long.MAX_VALUE / 4;
        long[][] f = new long[maxM + 1][maxL + 1];
        long[][] n = new long[maxM + 1][maxL + 1];
        for (long[] row : f) {
            Arrays.fill(row, inf);
        }
        for (long[] row : n) {
            Arrays.fill(row, inf);
        }
        for (int d = 1; d <= maxL; d++) {
            for (int m = 1; m <= maxM; m++) {
                long keep = inf;
                if (d == 1) {
                    keep = 0;
                } else {
                    for (int s = 1; s < d; s++) {
                        if (1 + Math.min(2, s) <= m) {
                            keep = Math.min(keep, s + f[m - 1][d - s] + f[m][s]);
                        }
                    }
                }
                long nv = Math.min(2, d) <= m && keep < inf ? d + keep : inf;
                if (m >= 2) {
                    for (int s = 1; s < d; s++) {
                        nv = Math.min(nv, s + n[m - 1][d - s] + f[m][s]);
                    }
                }
                n[m][d] = Math.min(nv, inf);
                f[m][d] = Math.min(Math.min(keep, nv), inf);
            }
        }
        return n;
    }

    @Test
    void equalsTheReferenceRecurrenceWithEverySplitScanned() {
        long[][] n = referenceDp(400, 401);
        for (int layers = 1; layers <= 90; layers++) {
            for (int m = OptimalPlanner.minBuffers(layers); m <= layers + 1; m++) {
                assertEquals(n[m][layers], OptimalPlanner.minEvaluations(layers, m), "L=" + layers + " M=" + m);
            }
        }
        for (int layers : new int[] {150, 257, 400}) {
            for (int m : new int[] {2, 3, 4, 5, 7, 8, 13, 21, 34, 64, 100, layers - 1, layers, layers + 1}) {
                assertEquals(n[m][layers], OptimalPlanner.minEvaluations(layers, m), "L=" + layers + " M=" + m);
            }
        }
    }

    @Test
    void neverWorseThanTheOtherPlannersAtTheSameMemory() {
        for (int layers = 1; layers <= 60; layers++) {
            long previous = Long.MAX_VALUE;
            for (int m = OptimalPlanner.minBuffers(layers); m <= layers + 2; m++) {
                String what = "L=" + layers + " M=" + m;
                Plan opt = new OptimalPlanner(m).plan(layers);
                long cost = opt.stats().forwardEvaluations();
                assertEquals(OptimalPlanner.minEvaluations(layers, m), cost, what);
                assertTrue(opt.stats().peakLiveBuffers() <= m, what);
                assertTrue(cost <= previous, what + ": more memory never costs more");
                assertTrue(cost >= layers, what);
                previous = cost;
                if (m >= layers) {
                    assertEquals(layers, cost, what + ": full storage fits");
                }
                for (int s = 1; s + 1 <= m; s++) {
                    assertTrue(cost <= BinomialPlanner.forwardEvaluations(layers, s), what + " vs binomial:" + s);
                }
                for (int k = 1; k <= layers; k++) {
                    Plan u = new UniformPlanner(k).plan(layers);
                    if (u.stats().peakLiveBuffers() <= m) {
                        assertTrue(cost <= u.stats().forwardEvaluations(), what + " vs uniform:" + k);
                    }
                }
                Plan sqrt = new SqrtPlanner().plan(layers);
                if (sqrt.stats().peakLiveBuffers() <= m) {
                    assertTrue(cost <= sqrt.stats().forwardEvaluations(), what + " vs sqrt");
                }
            }
            assertEquals(layers, new OptimalPlanner(layers).plan(layers).stats().forwardEvaluations());
        }
    }

    @Test
    void strictlyBeatsBinomialAtEqualMemoryOnLongerChains() {
        for (int s : new int[] {3, 7, 15, 31, 63}) {
            long binomial = BinomialPlanner.forwardEvaluations(1000, s);
            long optimal = OptimalPlanner.minEvaluations(1000, s + 1);
            assertTrue(optimal < binomial, "S=" + s + ": " + optimal + " vs " + binomial);
        }
    }

    @Test
    void goldenPlans() {
        assertEquals("F1 LOSS B1 D1", new OptimalPlanner(1).plan(1).actionsText());
        assertEquals("F1 F2 D1 F3 LOSS B3 D3 F1 B2 D2 B1 D1", new OptimalPlanner(2).plan(3).actionsText());
        // With two buffers a^3 is dropped after B4: a^2 cannot be recomputed beside it.
        assertEquals("F1 F2 D1 F3 D2 F4 LOSS B4 D4 D3 F1 F2 D1 F3 B3 D3 F1 B2 D2 B1 D1",
                new OptimalPlanner(2).plan(4).actionsText());
        assertEquals("F1 F2 D1 F3 F4 D3 F5 LOSS B5 D5 F3 B4 D4 B3 D3 F1 B2 D2 B1 D1",
                new OptimalPlanner(3).plan(5).actionsText());
        assertEquals("F1 F2 D1 F3 D2 F4 F5 D4 F6 LOSS B6 D6 F4 B5 D5 B4 D4 F1 F2 B3 D3 B2 D2 B1 D1",
                new OptimalPlanner(3).plan(6).actionsText());
        String full = new FullStoragePlanner().plan(5).actionsText();
        assertEquals(full, new OptimalPlanner(5).plan(5).actionsText());
        assertEquals(full, new OptimalPlanner(Integer.MAX_VALUE).plan(5).actionsText());
    }

    /** No recursion per layer: deep chains plan on a 256 KiB stack. */
    @ParameterizedTest
    @CsvSource({"2000, 64", "2000, 2", "5000, 3", "10000, 200"})
    void longChainsOnASmallStack(int layers, int m) throws Exception {
        Plan p = SmallStack.call(() -> new OptimalPlanner(m).plan(layers));
        assertEquals(OptimalPlanner.minEvaluations(layers, m), p.stats().forwardEvaluations());
        assertTrue(p.stats().peakLiveBuffers() <= m);
        if (m == 2) {
            // Two buffers: B j for j >= 3 costs a sweep a^1..a^j; then a^2 is live after B3, so one
            // F1 serves B2 and B1: 3 + 4 + ... + L + 1.
            assertEquals((long) layers * (layers + 1) / 2 - 2, p.stats().forwardEvaluations());
        }
    }

    @Test
    void refusesTablesTooLargeToHold() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OptimalPlanner(10_000).plan(100_000));
        assertTrue(e.getMessage().startsWith("optimal:10000 cannot serve 100000 layers: its tables would hold"),
                e.getMessage());
    }
}
