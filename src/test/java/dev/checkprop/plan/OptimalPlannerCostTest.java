package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code optimal:M} on a chain whose layers cost different amounts: the least total cost in M buffers. */
class OptimalPlannerCostTest {

    /** The same costs with every size 1, so that a budget of M bytes is M buffers in the search. */
    private static Chain counted(long[] cost) {
        final long[] ones = new long[cost.length];
        Arrays.fill(ones, 1);
        return Chain.of(ones, cost);
    }

    private static void check(long[] cost, String what) {
        final Chain chain = counted(cost);
        final int layers = cost.length;
        for (int m = OptimalPlanner.minBuffers(layers); m <= layers + 1; m++) {
            final WeightedSearch search = new WeightedSearch(chain, m);
            final Plan p = new OptimalPlanner(m).plan(chain);
            final String w = what + " M=" + m;
            assertEquals("optimal:" + m, p.name(), w);
            assertEquals(search.cost, p.cost(chain).forwardCost(), w + ": " + p.actionsText() + " vs " + search.witness);
            assertTrue(p.stats().peakLiveBuffers() <= m, w);
            // The sizes of the chain are ignored: M counts buffers whatever the bytes.
            final long[] bytes = new long[layers];
            Arrays.fill(bytes, 1000);
            bytes[0] = 7;
            assertEquals(p, new OptimalPlanner(m).plan(Chain.of(bytes, cost)), w);
        }
    }

    /** The proof for small chains: equal to the exhaustive search on costs with an M-buffer limit. */
    @Test
    void equalsExhaustiveSearchOnRandomCosts() {
        final Random r = new Random(31);
        for (int trial = 0; trial < 150; trial++) {
            final long[] cost = new long[1 + r.nextInt(9)];
            for (int l = 0; l < cost.length; l++) {
                cost[l] = 1 + r.nextInt(trial % 2 == 0 ? 5 : 100);
            }
            check(cost, Arrays.toString(cost));
        }
    }

    /** First and last layer different, the rest equal: the fast path, checked the same way. */
    @Test
    void equalsExhaustiveSearchOnPiecewiseCosts() {
        final Random r = new Random(37);
        for (int trial = 0; trial < 100; trial++) {
            final long[] cost = new long[2 + r.nextInt(8)];
            Arrays.fill(cost, 1 + r.nextInt(20));
            cost[0] = 1 + r.nextInt(60);
            cost[cost.length - 1] = 1 + r.nextInt(60);
            assertTrue(PiecewiseDp.applies(counted(cost)));
            check(cost, Arrays.toString(cost));
        }
    }

    @Test
    void piecewiseFastPathAgreesWithTheGeneralProgramOnLongerChains() {
        final Random r = new Random(41);
        for (int trial = 0; trial < 40; trial++) {
            final long[] cost = new long[3 + r.nextInt(60)];
            Arrays.fill(cost, 1 + r.nextInt(20));
            cost[0] = 1 + r.nextInt(60);
            cost[cost.length - 1] = 1 + r.nextInt(60);
            final Chain chain = counted(cost);
            for (int m = 2; m < cost.length; m += 1 + cost.length / 8) {
                final Plan p = new OptimalPlanner(m).plan(chain);
                assertEquals(SlotDp.solve(chain, m, 1).cost(), p.cost(chain).forwardCost(), Arrays.toString(cost) + " M=" + m);
                assertTrue(p.stats().peakLiveBuffers() <= m);
            }
        }
    }

    @Test
    void equalCostsGiveTheCountBasedPlan() {
        for (int layers = 1; layers <= 30; layers++) {
            for (int m = OptimalPlanner.minBuffers(layers); m <= layers; m += 3) {
                assertEquals(new OptimalPlanner(m).plan(layers), new OptimalPlanner(m).plan(Chain.uniform(layers, 5, 9)));
            }
        }
        // Costs matter: with a first layer costing 4, optimal:3 on five layers keeps a1 for good and
        // recomputes from it, where the count-based plan recomputes a1 (13 against 12).
        final Chain chain = counted(new long[] {4, 1, 1, 1, 1});
        assertEquals(13, new OptimalPlanner(3).plan(5).cost(chain).forwardCost());
        final Plan p = new OptimalPlanner(3).plan(chain);
        assertEquals(12, p.cost(chain).forwardCost());
        assertEquals("F1 F2 F3 D2 F4 D3 F5 LOSS B5 D5 D4 F2 F3 D2 F4 B4 D4 F2 B3 D3 B2 D2 B1 D1", p.actionsText());
    }

    @Test
    void longChainsWithRealCostsPlanFast() throws Exception {
        final long[] cost = new long[2000];
        Arrays.fill(cost, 1024L * 1024);
        cost[0] = 784L * 1024;
        cost[1999] = 1024L * 10;
        final Chain chain = counted(cost);
        final Plan p = SmallStack.call(() -> new OptimalPlanner(64).plan(chain));
        assertEquals("optimal:64", p.name());
        assertTrue(p.stats().peakLiveBuffers() <= 64);
        // Never worse than the count-based plan, which is also a plan within 64 buffers.
        assertTrue(p.cost(chain).forwardCost() <= new OptimalPlanner(64).plan(2000).cost(chain).forwardCost());
    }

    @Test
    void tooLargeForTheGeneralProgramFallsBackAndSaysSo() {
        final Random r = new Random(43);
        final long[] cost = new long[3000];
        for (int l = 0; l < cost.length; l++) {
            cost[l] = 1 + r.nextInt(1000);
        }
        final Plan p = new OptimalPlanner(64).plan(counted(cost));
        assertEquals("optimal:64 (approx)", p.name());
        assertEquals(new OptimalPlanner(64).plan(3000).actionsText(), p.actionsText());
    }

    @Test
    void rejectsTooFewBuffersAsBefore() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new OptimalPlanner(1).plan(counted(new long[] {1, 2, 3})));
        assertEquals("optimal:1 cannot serve 3 layers: at least 2 live buffers are needed", e.getMessage());
    }
}
