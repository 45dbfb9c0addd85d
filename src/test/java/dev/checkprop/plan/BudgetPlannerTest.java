package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BudgetPlannerTest {

    /** Widths 1..4 for a^0..a^L: bytes = quantum * width, cost = product of adjacent widths. */
    static Chain randomWidths(Random r, int layers, long quantum) {
        final long[] w = new long[layers + 1];
        for (int l = 0; l <= layers; l++) {
            w[l] = 1 + r.nextInt(4);
        }
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        for (int l = 1; l <= layers; l++) {
            bytes[l - 1] = quantum * w[l];
            cost[l - 1] = w[l] * w[l - 1];
        }
        return Chain.of(bytes, cost);
    }

    /** Sizes and costs with no common structure at all. */
    static Chain randomAnything(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        for (int l = 0; l < layers; l++) {
            bytes[l] = 1 + r.nextInt(40);
            cost[l] = 1 + r.nextInt(20);
        }
        return Chain.of(bytes, cost);
    }

    /** Every size but the last equal; every cost random; the last size anything. */
    static Chain randomEqualSizes(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        final long size = 8 * (1 + r.nextInt(3));
        for (int l = 0; l < layers; l++) {
            bytes[l] = size;
            cost[l] = 1 + r.nextInt(20);
        }
        bytes[layers - 1] = 1 + r.nextInt(40); // need not share a quantum: a^L is never a checkpoint
        return Chain.of(bytes, cost);
    }

    /** The shape of real networks: sizes b..b, bL; costs c1, c..c, cL. */
    static Chain randomPiecewise(Random r, int layers) {
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        final long size = 1 + r.nextInt(50);
        final long c = 1 + r.nextInt(30);
        java.util.Arrays.fill(bytes, size);
        java.util.Arrays.fill(cost, c);
        bytes[layers - 1] = 1 + r.nextInt(80);
        cost[0] = 1 + r.nextInt(60);
        cost[layers - 1] = 1 + r.nextInt(60);
        return Chain.of(bytes, cost);
    }

    /**
     * Checks the planner against the exhaustive search at every budget at which the optimum can
     * change, from one below the minimum to full storage, and answers how often each method served.
     */
    private static void checkAgainstSearch(Chain chain, Map<String, Integer> methods) {
        final long min = chain.minBudget();
        assertEquals(-1, new WeightedSearch(chain, min - 1).cost, chain + ": search below the minimum");
        assertTrue(new WeightedSearch(chain, min).cost >= 0, chain + ": search at the minimum");
        // Budgets start at 1 byte: below a minimum of 1 there is nothing to try.
        if (min > 1) {
            InfeasibleBudgetException e = assertThrows(InfeasibleBudgetException.class,
                    () -> new BudgetPlanner(min - 1).plan(chain));
            assertEquals(min, e.minBudgetBytes(), chain.toString());
            assertEquals(min - 1, e.budgetBytes());
            assertTrue(e.getMessage().contains(String.format(java.util.Locale.ROOT,
                    "smallest feasible budget is %,d bytes", min)), e.getMessage());
        }
        for (long budget : WeightedSearch.thresholds(chain)) {
            if (budget < min) {
                continue;
            }
            final String what = chain + " budget " + budget;
            final WeightedSearch search = new WeightedSearch(chain, budget);
            // The search's witness is a valid plan of that cost: the search models what the checker checks.
            final PlanCost witness = Plan.parse("search", chain.layers(), search.witness).cost(chain);
            assertEquals(search.cost, witness.forwardCost(), what);
            assertTrue(witness.peakBytes() <= budget, what);

            final BudgetPlanner.Solution s = new BudgetPlanner(budget).solve(chain);
            methods.merge(s.method(), 1, Integer::sum);
            assertTrue(s.exact(), what + ": " + s.method());
            assertEquals(search.cost, s.cost().forwardCost(), what + ": " + s.method() + " " + s.plan().actionsText()
                    + " vs " + search.witness);
            assertEquals(PlanChecker.measure(s.plan(), chain), s.cost(), what);
            assertTrue(s.cost().peakBytes() <= budget, what + ": peak " + s.cost().peakBytes());
            assertEquals("budget:" + Planners.formatBytes(budget), s.plan().name(), what);
        }
    }

    /** The proof of optimality on small chains of random widths: equal to the exhaustive search. */
    @Test
    void equalsExhaustiveSearchOnRandomWidthsAtEveryBudget() {
        final Random r = new Random(20240611);
        final Map<String, Integer> methods = new TreeMap<>();
        for (int trial = 0; trial < 300; trial++) {
            checkAgainstSearch(randomWidths(r, 1 + r.nextInt(8), 4096), methods);
        }
        // The varied-size program did the work (the other methods serve special shapes).
        assertTrue(methods.getOrDefault("exact", 0) > 1000, methods.toString());
        assertTrue(methods.getOrDefault("full", 0) >= 300, methods.toString());
    }

    @Test
    void equalsExhaustiveSearchOnArbitrarySizesAndCosts() {
        final Random r = new Random(7);
        final Map<String, Integer> methods = new TreeMap<>();
        for (int trial = 0; trial < 80; trial++) {
            checkAgainstSearch(randomAnything(r, 1 + r.nextInt(8)), methods);
        }
        assertTrue(methods.getOrDefault("exact", 0) > 1000, methods.toString());
    }

    @Test
    void equalsExhaustiveSearchOnEqualSizesWithAnyCostsAndOnPiecewiseChains() {
        final Random r = new Random(11);
        final Map<String, Integer> methods = new TreeMap<>();
        for (int trial = 0; trial < 150; trial++) {
            checkAgainstSearch(randomEqualSizes(r, 1 + r.nextInt(8)), methods);
            checkAgainstSearch(randomPiecewise(r, 1 + r.nextInt(8)), methods);
        }
        assertTrue(methods.getOrDefault("persistent", 0) > 300, methods.toString());
        assertTrue(methods.getOrDefault("piecewise", 0) > 300, methods.toString());
    }

    /**
     * Why the exact program needs slides: here the best plan uses the small a3 once more after the
     * loss, drops it to make room, and recomputes it later; no persistent schedule matches it.
     */
    @Test
    void slidesBeatPersistentSchedules() {
        final Chain chain = Chain.of(new long[] {24, 32, 16, 24, 24, 32, 32}, new long[] {6, 12, 8, 6, 9, 12, 16});
        final long budget = 80;
        assertEquals(116, new WeightedSearch(chain, budget).cost);
        assertEquals(120, SlotDp.solve(chain, budget, SlotDp.gcd(chain)).cost());
        final BudgetPlanner.Solution s = new BudgetPlanner(budget).solve(chain);
        assertEquals(116, s.cost().forwardCost());
        assertEquals("exact", s.method());
        assertTrue(s.plan().actionsText().contains("F4 D3"), s.plan().actionsText());
    }

    /**
     * The persistent program: never below the optimum (its plans are plans), equal to it when the
     * sizes are equal but for the last, and with a coarse quantum still within the budget.
     */
    @Test
    void persistentProgramIsBoundedByTheSearchAndExactForEqualSizes() {
        final Random r = new Random(3);
        int above = 0;
        for (int trial = 0; trial < 150; trial++) {
            final boolean equalSizes = trial % 2 == 0;
            final Chain chain = equalSizes ? randomEqualSizes(r, 1 + r.nextInt(8)) : randomWidths(r, 1 + r.nextInt(8), 8);
            for (long budget : WeightedSearch.thresholds(chain)) {
                if (budget < chain.minBudget() || budget >= chain.totalBytes()) {
                    continue;
                }
                final String what = chain + " budget " + budget;
                final long best = new WeightedSearch(chain, budget).cost;
                final SlotDp dp = SlotDp.solve(chain, budget, SlotDp.gcd(chain));
                final PlanCost cost = dp.emit(Plan.builder("p", chain.layers())).cost(chain);
                assertEquals(dp.cost(), cost.forwardCost(), what);
                assertTrue(cost.peakBytes() <= budget, what);
                if (equalSizes) {
                    assertEquals(best, dp.cost(), what);
                } else {
                    assertTrue(dp.cost() >= best, what);
                    above += dp.cost() > best ? 1 : 0;
                }
                // A quantum that divides nothing: sizes rounded up, the plan still fits.
                final long q = Math.max(1, budget / 5 + 3);
                final SlotDp coarse = SlotDp.solve(chain, budget, q);
                final PlanCost c2 = coarse.emit(Plan.builder("q", chain.layers())).cost(chain);
                assertEquals(coarse.cost(), c2.forwardCost(), what + " q=" + q);
                assertTrue(c2.peakBytes() <= budget, what + " q=" + q);
                assertTrue(coarse.cost() >= dp.cost(), what + " q=" + q);
            }
        }
        assertTrue(above > 0, "persistent schedules should lose somewhere on varied sizes");
    }

    /**
     * The fast path for real networks agrees with the general programs it specialises, on uniform
     * chains and on chains whose first cost and last size and cost differ.
     */
    @Test
    void piecewiseFastPathAgreesWithTheGeneralPrograms() {
        final Random r = new Random(5);
        for (int trial = 0; trial < 120; trial++) {
            final int layers = 2 + r.nextInt(trial < 60 ? 11 : 40);
            final Chain chain = trial % 4 == 0 ? Chain.uniform(layers, 1 + r.nextInt(9), 1 + r.nextInt(9))
                    : randomPiecewise(r, layers);
            assertTrue(PiecewiseDp.applies(chain));
            final long min = chain.minBudget();
            final long total = chain.totalBytes();
            for (int k = 0; k < 12; k++) {
                final long budget = min + (total - 1 - min) * k / 11;
                if (budget >= total || budget < min) {
                    continue;
                }
                final String what = chain + " budget " + budget;
                final PiecewiseDp fast = new PiecewiseDp(chain, budget);
                final SlotDp general = SlotDp.solve(chain, budget, SlotDp.gcd(chain));
                assertEquals(general.cost(), fast.cost(), what);
                if (layers <= 12) {
                    assertEquals(general.cost(), SlideDp.solve(chain, budget, Integer.MAX_VALUE, Long.MAX_VALUE).cost(), what);
                }
                final PlanCost cost = fast.emit(Plan.builder("f", layers)).cost(chain);
                assertEquals(fast.cost(), cost.forwardCost(), what);
                assertTrue(cost.peakBytes() <= budget, what);
                if (chain.isUniform()) {
                    final int m = (int) (budget / chain.bytes(1));
                    assertEquals(OptimalPlanner.minEvaluations(layers, m) * chain.cost(1), fast.cost(), what);
                }
            }
        }
    }

    /** Deep networks plan fast and without recursion: 2000 layers on a 256 KiB stack. */
    @Test
    void longChainsOnASmallStack() throws Exception {
        final int layers = 2000;
        final long b = 16 + 4L * 256 * 1024;
        final long[] bytes = new long[layers];
        final long[] cost = new long[layers];
        java.util.Arrays.fill(bytes, b);
        java.util.Arrays.fill(cost, 2L * 256 * 1024 * 1024);
        final Chain uniform = Chain.of(bytes, cost);
        cost[0] = 2L * 256 * 784 * 1024;
        bytes[layers - 1] = 16 + 4L * 256 * 10;
        cost[layers - 1] = 2L * 256 * 1024 * 10;
        final Chain mnistLike = Chain.of(bytes, cost);
        final long budget = 64 * b + 1000;
        for (Chain chain : new Chain[] {uniform, mnistLike}) {
            final BudgetPlanner.Solution s = SmallStack.call(() -> new BudgetPlanner(budget).solve(chain));
            assertTrue(s.exact(), s.method());
            assertEquals(chain == uniform ? "uniform" : "piecewise", s.method());
            assertTrue(s.cost().peakBytes() <= budget);
            assertEquals(s.cost(), s.plan().cost(chain));
        }
        // Uniform: exactly optimal:64 times the cost of a layer.
        final BudgetPlanner.Solution s = new BudgetPlanner(budget).solve(uniform);
        assertEquals(OptimalPlanner.minEvaluations(layers, 64) * uniform.cost(1), s.cost().forwardCost());
    }

    /** Past its work limits the planner steps down, never silently: the name says approx. */
    @Test
    void fallbacksAreValidAndSayApprox() {
        final Random r = new Random(9);
        for (int trial = 0; trial < 40; trial++) {
            final Chain chain = trial % 2 == 0 ? randomWidths(r, 3 + r.nextInt(20), 4096) : randomAnything(r, 3 + r.nextInt(20));
            if (PiecewiseDp.applies(chain)) {
                continue;
            }
            final long budget = chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 3;
            final long best = new BudgetPlanner(budget, 100_000, Long.MAX_VALUE, Long.MAX_VALUE).solve(chain).cost().forwardCost();
            final BudgetPlanner.Solution persistent = new BudgetPlanner(budget, 64, 0, Long.MAX_VALUE).solve(chain);
            final BudgetPlanner.Solution heuristic = new BudgetPlanner(budget, 64, 0, 0).solve(chain);
            assertEquals("persistent", persistent.method());
            assertEquals("heuristic", heuristic.method());
            for (BudgetPlanner.Solution s : new BudgetPlanner.Solution[] {persistent, heuristic}) {
                final String what = chain + " budget " + budget + " " + s.method();
                assertFalse(s.exact(), what);
                assertEquals("budget:" + Planners.formatBytes(budget) + " (approx)", s.plan().name(), what);
                assertTrue(s.cost().peakBytes() <= budget, what);
                assertTrue(s.cost().forwardCost() >= best, what);
            }
        }
    }

    @Test
    void minimumMemoryPlanReachesExactlyTheMinimumBudget() {
        final Random r = new Random(13);
        for (int trial = 0; trial < 50; trial++) {
            final Chain chain = randomAnything(r, 1 + r.nextInt(30));
            final Plan p = BudgetPlanner.minimumMemory("min", chain.layers());
            final PlanCost cost = p.cost(chain);
            assertEquals(chain.minBudget(), cost.peakBytes(), chain.toString());
            long expected = 0;
            for (int j = 1; j <= chain.layers(); j++) {
                for (int l = 1; l <= j; l++) {
                    expected += chain.cost(l);
                }
            }
            assertEquals(expected, cost.forwardCost());
            // And the planner at the minimum budget finds a plan at least as cheap.
            assertTrue(new BudgetPlanner(chain.minBudget()).solve(chain).cost().forwardCost() <= expected);
        }
    }

    /** A function with more breakpoints than the slot limit is thinned: still valid, flagged approx. */
    @Test
    void thinningKeepsPlansWithinBudgetAndSaysApprox() {
        final Random r = new Random(17);
        int thinned = 0;
        for (int trial = 0; trial < 10; trial++) {
            final Chain chain = randomAnything(r, 24);
            final long budget = chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 3;
            final BudgetPlanner.Solution exact = new BudgetPlanner(budget).solve(chain);
            final BudgetPlanner.Solution coarse = new BudgetPlanner(budget, 32).solve(chain);
            assertEquals("exact", coarse.method());
            assertTrue(coarse.cost().peakBytes() <= budget);
            assertTrue(coarse.cost().forwardCost() >= exact.cost().forwardCost());
            if (!coarse.exact()) {
                thinned++;
                assertTrue(coarse.plan().name().endsWith(" (approx)"), coarse.plan().name());
            }
        }
        assertTrue(thinned > 0, "no function had more than 32 breakpoints");
    }

    @Test
    void countModelOnAUniformChain() {
        // One byte per activation: the budget counts buffers.
        for (int m = 2; m <= 12; m++) {
            final Plan p = new BudgetPlanner(m).plan(Chain.uniform(12));
            assertEquals(OptimalPlanner.minEvaluations(12, m), p.stats().forwardEvaluations());
            assertTrue(p.stats().peakLiveBuffers() <= m);
            assertEquals("budget:" + m, p.name());
        }
        assertEquals(new FullStoragePlanner().plan(5).actionsText(),
                new BudgetPlanner(1L << 40).plan(Chain.uniform(5)).actionsText());
        assertEquals("budget:1TiB", new BudgetPlanner(1L << 40).plan(Chain.uniform(5)).name());
        InfeasibleBudgetException e = assertThrows(InfeasibleBudgetException.class,
                () -> new BudgetPlanner(1).plan(Chain.uniform(3)));
        assertEquals(2, e.minBudgetBytes());
    }

    /** A byte budget without sizes used to plan one byte per layer, i.e. full storage for any real network. */
    @Test
    void planningALengthAloneIsRefusedSayingWhatToCallInstead() {
        final Planner budget = Planners.parse("budget:2MiB");
        assertTrue(budget.needsChain());
        for (int layers : new int[] {0, 1, 12, 1000}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> budget.plan(layers));
            assertEquals("budget:2MiB is a byte budget: it needs the network and the batch it is for; plan it with"
                    + " dev.checkprop.select.PlanSelection.select(\"budget:2MiB\", network, batch) or"
                    + " BudgetPlanner.plan(Chain); for a budget in buffers use optimal:M", e.getMessage());
        }
        assertEquals("budget:2MiB", budget.plan(Chain.uniform(12, 1L << 20, 1)).name());
    }

    @Test
    void infeasibleBudgetMessageNamesTheMinimumInBytesAndBinaryUnits() {
        final Chain chain = Chain.of(new long[] {65536, 131072, 65536}, new long[] {1, 1, 1});
        assertEquals(196608, chain.minBudget());
        InfeasibleBudgetException e = assertThrows(InfeasibleBudgetException.class, () -> new BudgetPlanner(1000).plan(chain));
        assertEquals("budget:1000 is too small for this chain: the smallest feasible budget is 196,608 bytes (192.0 KiB)",
                e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
        e = assertThrows(InfeasibleBudgetException.class, () -> Planners.parse("budget:192KiB").plan(
                Chain.of(new long[] {65536, 131073}, new long[] {1, 1})));
        assertEquals("budget:192KiB is too small for this chain: the smallest feasible budget is 196,609 bytes (192.0 KiB)",
                e.getMessage());
        // One byte more plans.
        assertNotNull(new BudgetPlanner(196608).plan(chain));
    }

    @Test
    void rejectsBadParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BudgetPlanner(0));
        assertEquals("budget:BYTES needs at least 1 byte, got 0", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new BudgetPlanner(100, 31));
        assertEquals("budget: the slot limit must be at least 32, got 31", e.getMessage());
        assertEquals(2000, new BudgetPlanner(5).slotLimit());
        assertEquals(5, new BudgetPlanner(5).budgetBytes());
        assertEquals("budget:64MiB", new BudgetPlanner(64L << 20).toString());
    }

    /** Planners are pure functions: equal inputs, equal plans. */
    @Test
    void deterministic() {
        final Random r = new Random(21);
        for (int trial = 0; trial < 10; trial++) {
            final Chain chain = randomWidths(r, 12, 1000);
            final long budget = chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 4;
            final Plan a = new BudgetPlanner(budget).plan(chain);
            final Plan b = new BudgetPlanner(budget).plan(Chain.of(bytesOf(chain), costsOf(chain)));
            assertEquals(a, b);
            assertEquals(a.name(), b.name());
        }
    }

    static long[] bytesOf(Chain chain) {
        final long[] v = new long[chain.layers()];
        for (int l = 1; l <= chain.layers(); l++) {
            v[l - 1] = chain.bytes(l);
        }
        return v;
    }

    static long[] costsOf(Chain chain) {
        final long[] v = new long[chain.layers()];
        for (int l = 1; l <= chain.layers(); l++) {
            v[l - 1] = chain.cost(l);
        }
        return v;
    }
}
