package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TieredPlannerTest {

    /** One nanosecond per cost unit: f(l) = cost(l) exactly. */
    private static final double NS = 1e-9;

    private static StepTimeModel model(double backward, Map<Tier, TierCosts> tiers) {
        return new StepTimeModel(NS, backward, tiers);
    }

    private static Chain chain(long[] bytes, long[] cost) {
        return Chain.of(bytes, cost);
    }

    // ---- the simulator, by hand ----

    /** 10-byte states; f = 100, 200, 300 ns, g = f; off-heap moves 10 bytes in 10 ns + 5 ns latency. */
    private static StepTimes handTimes(long writeBytesPerSecond) {
        final Chain c = chain(new long[] {10, 10, 10}, new long[] {100, 200, 300});
        return model(1.0, Map.of(Tier.OFF_HEAP, new TierCosts(1000, writeBytesPerSecond, 1_000_000_000L, 5))).times(c);
    }

    @Test
    void simulatorWaitsForAReadAtItsFirstUse() {
        final Plan p = Plan.parse("p", 3, "F1 W1@offheap F2 D1 F3 LOSS B3 D3 R1 B2 D2 B1 D1 X1");
        final StepTimes.Prediction pr = handTimes(1_000_000_000L).predict(p);
        // F1 ends at 100, its write at 115 (hidden behind F2); R1 is issued at 900 (after B3) and
        // ends at 915, so B2 waits 15 ns: 915 + 200 + 100.
        assertEquals(1215, pr.totalNanos());
        assertEquals(1200, pr.computeNanos());
        assertEquals(15, pr.waitNanos());
        assertEquals(30, pr.ioNanos());
        assertEquals(10, pr.written(Tier.OFF_HEAP));
        assertEquals(10, pr.read(Tier.OFF_HEAP));
        assertEquals(10, pr.peakHeld(Tier.OFF_HEAP));
        assertEquals(0, pr.written(Tier.DISK));
    }

    @Test
    void simulatorHidesAPrefetchedReadAndCountsItsBufferInTheHeap() {
        final Plan p = Plan.parse("p", 3, "F1 W1@offheap F2 D1 F3 LOSS R1 B3 D3 B2 D2 B1 D1 X1");
        final StepTimes.Prediction pr = handTimes(1_000_000_000L).predict(p);
        assertEquals(1200, pr.totalNanos()); // R1 runs 600..615, under B3
        assertEquals(0, pr.waitNanos());
        assertEquals(30, p.cost(chain(new long[] {10, 10, 10}, new long[] {1, 1, 1})).peakBytes());
    }

    @Test
    void simulatorMakesADropWaitForItsWrite() {
        final Plan p = Plan.parse("p", 3, "F1 W1@offheap F2 D1 F3 LOSS B3 D3 R1 B2 D2 B1 D1 X1");
        // 10 bytes at 10^7 B/s: 1000 ns + 5; D1 (at 300) waits until 1105.
        final StepTimes.Prediction pr = handTimes(10_000_000L).predict(p);
        assertEquals(1105 + 300 + 300 + 15 + 200 + 100, pr.totalNanos());
        assertEquals(805 + 15, pr.waitNanos());
    }

    @Test
    void simulatorMakesABackwardStepWaitForTheWriteOfItsOutput() {
        final Plan p = Plan.parse("p", 3, "F1 F2 F3 W3@offheap LOSS B3 D3 B2 D2 B1 D1 X3");
        // W3 runs 600..1605 behind LOSS; B3 starts at 1605.
        assertEquals(1605 + 300 + 200 + 100, handTimes(10_000_000L).predict(p).totalNanos());
    }

    @Test
    void simulatorOfAHeapOnlyPlanIsItsComputeTime() {
        final Chain c = chain(new long[] {4, 4, 4, 4}, new long[] {3, 5, 7, 11});
        final StepTimes t = model(2.0, Map.of()).times(c);
        final Plan p = new OptimalPlanner(2).plan(4);
        final long expected = 2 * (3 + 5 + 7 + 11) + Arrays.stream(p.stats().evaluationsPerLayer()).skip(1).sum() * 0
                + weighted(p, new long[] {0, 3, 5, 7, 11});
        assertEquals(expected, t.predict(p).totalNanos());
        assertEquals(0, t.predict(p).waitNanos());
    }

    private static long weighted(Plan p, long[] f) {
        long s = 0;
        for (int i = 0; i < p.size(); i++) {
            if (p.op(i) == Plan.Op.FORWARD) {
                s += f[p.layer(i)];
            }
        }
        return s;
    }

    @Test
    void transferTimesRoundUpOnceToWholeNanoseconds() {
        final Chain c = chain(new long[] {3, 3}, new long[] {1, 1});
        final StepTimes t = model(1.0, Map.of(Tier.DISK, new TierCosts(100, 2_000_000_000L, 7_000_000_000L, 11))).times(c,
                new long[] {3, 5});
        assertEquals(11 + 2, t.writeNanos(Tier.DISK, 1)); // 1.5 ns -> 2
        assertEquals(11 + 1, t.readNanos(Tier.DISK, 2));  // 5/7 ns -> 1
        assertFalse(t.has(Tier.OFF_HEAP));
        assertThrows(IllegalArgumentException.class, () -> t.writeNanos(Tier.OFF_HEAP, 1));
    }

    // ---- optimality: the program against the exhaustive search of its family ----

    private static TierCosts randomTier(Random r, long capacity) {
        final long[] bw = {100_000_000L, 1_000_000_000L, 3_000_000_000L, 10_000_000_000L};
        return new TierCosts(capacity, bw[r.nextInt(bw.length)], bw[r.nextInt(bw.length)], r.nextInt(10));
    }

    /**
     * The proof of optimality in the model: on random small chains (every state but the last of one
     * size, random forward times, backward 0 to 2.5 times forward, one or two tiers of random speeds,
     * capacities from one copy to unbounded, every budget from the minimum to full storage), the
     * planner's predicted time equals the least of every plan of the two-level family, each simulated.
     */
    @Test
    void equalsExhaustiveSearchOfTheTwoLevelFamilyOnRandomSmallChains() {
        final Random r = new Random(16);
        int withTiers = 0;
        int cases = 0;
        for (int n = 0; n < 120; n++) {
            final int L = 3 + r.nextInt(n % 3 == 0 ? 5 : 4); // 3..7 layers; two tiers only up to 6
            final Chain c = BudgetPlannerTest.randomEqualSizes(r, L);
            final boolean two = L <= 6 && r.nextBoolean();
            final long size = c.bytes(1);
            final long cap1 = size * (1 + r.nextInt(L));
            final long cap2 = size * (1 + r.nextInt(L));
            final Map<Tier, TierCosts> tiers = new EnumMap<>(Tier.class);
            tiers.put(Tier.OFF_HEAP, randomTier(r, cap1));
            if (two) {
                tiers.put(Tier.DISK, randomTier(r, cap2));
            }
            final double[] ratios = {0, 1, 2, 2.5};
            final StepTimeModel m = model(ratios[r.nextInt(ratios.length)], tiers);
            final StepTimes times = m.times(c);
            final Tier[] used = tiers.keySet().toArray(new Tier[0]);
            for (long budget = c.minBudget(); budget <= c.totalBytes(); budget += size) {
                final TieredPlanner planner = new TieredPlanner(budget, Map.of());
                final TieredPlanner.Solution s = planner.solve(c, m);
                final TieredFamilySearch search = new TieredFamilySearch(c, budget, times, used);
                final String what = c + " budget " + budget + " model " + m + ": planner " + s.plan().actionsText()
                        + " vs search " + search.witness.actionsText();
                assertTrue(s.exact(), what);
                assertEquals(search.time, s.predicted().totalNanos(), what);
                assertEquals(search.time, times.predict(s.plan()).totalNanos(), what);
                assertTrue(s.plan().cost(c).peakBytes() <= budget, what);
                assertTrue(s.predicted().totalNanos() <= s.heapOnlyPredicted().totalNanos(), what);
                for (Tier t : used) {
                    assertTrue(s.predicted().peakHeld(t) <= tiers.get(t).capacityBytes(), what);
                }
                withTiers += s.usesTiers() ? 1 : 0;
                cases++;
            }
        }
        // The search must also have seen plans where the tiers win, or it proves little.
        assertTrue(withTiers > cases / 10, withTiers + " of " + cases + " cases use tiers");
        assertTrue(withTiers < cases, "some cases must be heap-only");
    }

    /** Varied sizes: the heap parts are persistent schedules, not always optimal; still valid, fitting, never slower than budget:. */
    @Test
    void variedSizesGiveValidPlansNeverSlowerThanTheHeapOnlyPlan() {
        final Random r = new Random(7);
        for (int n = 0; n < 60; n++) {
            final Chain c = BudgetPlannerTest.randomWidths(r, 4 + r.nextInt(6), 8);
            final Map<Tier, TierCosts> tiers = new EnumMap<>(Tier.class);
            tiers.put(Tier.OFF_HEAP, randomTier(r, 8 * (1 + r.nextInt(20))));
            tiers.put(Tier.DISK, randomTier(r, 1L << 40));
            final StepTimeModel m = model(2.0, tiers);
            for (long budget = c.minBudget(); budget <= c.totalBytes(); budget += 8) {
                final TieredPlanner.Solution s = new TieredPlanner(budget, Map.of()).solve(c, m);
                assertTrue(s.plan().cost(c).peakBytes() <= budget);
                assertTrue(s.predicted().totalNanos() <= s.heapOnlyPredicted().totalNanos());
                assertTrue(s.predicted().peakHeld(Tier.OFF_HEAP) <= tiers.get(Tier.OFF_HEAP).capacityBytes());
                assertEquals(s.predicted(), m.times(c).predict(Plan.parse("copy", c.layers(), s.plan().actionsText())));
            }
        }
    }

    // ---- when tiers help and when they do not ----

    /** 60 equal layers, three buffers of heap: recomputation dominates, and a fast tier removes most of it. */
    @Test
    void aFastTierBeatsRecomputationAtTheSameHeapBudget() {
        final Chain c = Chain.uniform(60, 1 << 20, 1_000_000); // 1 MiB states, 1 ms forwards
        final StepTimeModel m = model(2.0, Map.of(Tier.OFF_HEAP,
                new TierCosts(1L << 40, 4_000_000_000L, 4_000_000_000L, 10_000)));
        final TieredPlanner planner = new TieredPlanner(3L << 20, Map.of());
        final TieredPlanner.Solution s = planner.solve(c, m);
        assertTrue(s.usesTiers());
        assertEquals("tiered:3MiB", s.plan().name());
        final Plan heap = new BudgetPlanner(3L << 20).plan(c);
        assertEquals(heap.actionsText(), s.heapOnly().actionsText());
        assertTrue(s.predicted().totalNanos() < s.heapOnlyPredicted().totalNanos() * 2 / 3,
                s.predicted() + " vs " + s.heapOnlyPredicted());
        assertTrue(s.plan().stats().forwardEvaluations() < heap.stats().forwardEvaluations());
        assertTrue(s.predicted().written(Tier.OFF_HEAP) > 0);
        assertEquals(s.predicted().written(Tier.OFF_HEAP), s.predicted().read(Tier.OFF_HEAP));
    }

    @Test
    void aSlowTierOrFastRecomputationGivesTheHeapOnlyPlan() {
        final Chain c = Chain.uniform(30, 1 << 20, 1000); // 1 us forwards: cheaper than any transfer
        final StepTimeModel m = model(2.0, Map.of(Tier.DISK, new TierCosts(1L << 40, 100_000_000L, 100_000_000L, 50_000)));
        final TieredPlanner.Solution s = new TieredPlanner(3L << 20, Map.of()).solve(c, m);
        assertFalse(s.usesTiers());
        assertEquals(new BudgetPlanner(3L << 20).plan(c).actionsText(), s.plan().actionsText());
        assertEquals("tiered:3MiB", s.plan().name());
        assertEquals(s.heapOnlyPredicted(), s.predicted());
    }

    @Test
    void aCapacityForOneCopyIsRespected() {
        final Chain c = Chain.uniform(40, 1 << 20, 1_000_000);
        final StepTimeModel m = model(2.0, Map.of(Tier.OFF_HEAP, new TierCosts(1L << 40, 4_000_000_000L,
                4_000_000_000L, 10_000)));
        final TieredPlanner.Solution one = new TieredPlanner(3L << 20, Map.of(Tier.OFF_HEAP, 1L << 20)).solve(c, m);
        final TieredPlanner.Solution many = new TieredPlanner(3L << 20, Map.of()).solve(c, m);
        assertEquals(1L << 20, one.predicted().peakHeld(Tier.OFF_HEAP));
        assertTrue(one.usesTiers());
        assertTrue(many.predicted().totalNanos() < one.predicted().totalNanos());
        assertTrue(one.predicted().totalNanos() < one.heapOnlyPredicted().totalNanos());
        assertEquals("tiered:3MiB,offheap:1MiB", one.plan().name());
    }

    // ---- plan strings and errors ----

    @Test
    void parsesAndPrintsThePlanString() {
        final Planner p = Planners.parse("tiered:64MiB,disk:8GiB,offheap:1.5GiB");
        assertTrue(p instanceof TieredPlanner);
        assertTrue(p.needsChain());
        assertEquals("tiered:64MiB,offheap:1536MiB,disk:8GiB", p.toString());
        assertEquals(p.toString(), Planners.parse(p.toString()).toString());
        final TieredPlanner t = (TieredPlanner) Planners.parse("TIERED:1000,Disk:0");
        assertEquals(1000, t.heapBytes());
        assertEquals(Map.of(Tier.DISK, 0L), t.capacities());
        assertTrue(Planners.SYNTAX.contains("tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]"));
    }

    @Test
    void badPlanStringsNameTheProblem() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:")).getMessage()
                .contains("needs a parameter HEAP_BYTES"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:1MiB,tape:1GiB"))
                .getMessage().contains("unknown tier 'tape' (expected offheap or disk)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:1MiB,disk"))
                .getMessage().contains("'disk' is not TIER:BYTES"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:1MiB,disk:1GB,disk:2GB"))
                .getMessage().contains("tier disk is named twice"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:1 parsec"))
                .getMessage().contains("the heap budget"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Planners.parse("tiered:1MiB,disk:lots"))
                .getMessage().contains("the capacity of disk"));
    }

    @Test
    void refusesWithoutSpeedsAndBelowTheMinimumHeap() {
        final Planner p = Planners.parse("tiered:1MiB");
        final Chain c = Chain.uniform(5, 1 << 20, 1);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.plan(c)).getMessage()
                .contains("PlanSelection.select(\"tiered:1MiB\", network, batch)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.plan(5)).getMessage()
                .contains("PlanSelection.select"));
        final StepTimeModel m = model(2.0, Map.of(Tier.DISK, new TierCosts(1L << 30, 1_000_000_000L, 1_000_000_000L, 0)));
        final InfeasibleBudgetException e = assertThrows(InfeasibleBudgetException.class,
                () -> ((TieredPlanner) p).solve(c, m));
        assertTrue(e.getMessage().startsWith("tiered:1MiB is too small for this chain: the smallest feasible budget is"
                + " 2,097,152 bytes (2.0 MiB)"), e.getMessage());
    }

    @Test
    void refusesATierTooSmallForAnyCopyOrMissingFromTheModel() {
        final Chain c = Chain.uniform(5, 1 << 20, 1);
        final StepTimeModel m = model(2.0, Map.of(Tier.DISK, new TierCosts(1L << 30, 1_000_000_000L, 1_000_000_000L, 0)));
        final String small = assertThrows(IllegalArgumentException.class,
                () -> new TieredPlanner(2L << 20, Map.of(Tier.DISK, 1000L)).solve(c, m)).getMessage();
        assertTrue(small.contains("disk:1000 holds no state of this chain: the smallest a checkpoint's copy can take is"
                + " 1,048,576 bytes (1.0 MiB)"), small);
        final String missing = assertThrows(IllegalArgumentException.class,
                () -> new TieredPlanner(2L << 20, Map.of(Tier.OFF_HEAP, 1L << 30)).solve(c, m)).getMessage();
        assertTrue(missing.contains("no speeds for tier offheap"), missing);
    }

    @Test
    void plansADeepChainQuickly() {
        final Chain c = Chain.uniform(300, 1 << 22, 40_000_000);
        final StepTimeModel m = model(2.0, Map.of(Tier.OFF_HEAP, new TierCosts(1L << 40, 4_000_000_000L,
                4_000_000_000L, 10_000), Tier.DISK, new TierCosts(1L << 40, 1_000_000_000L, 2_000_000_000L, 100_000)));
        final long t0 = System.nanoTime();
        final TieredPlanner.Solution s = new TieredPlanner(5L << 22, Map.of()).solve(c, m);
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(s.usesTiers());
        assertTrue(ms < 20_000, ms + " ms");
    }

    /**
     * The shape of the 1024-layer width-16 network at a batch of 32768 under {@code tiered:24MiB} with
     * the probe's tiers: off-heap holds 57 of the 1023 possible checkpoints, disk all of them. Coarsening
     * the capacity unit past off-heap's capacity once made it look unbounded (the plan put 2 GiB there).
     */
    @Test
    void aDeepChainRespectsASmallOffHeapCapacityNextToAnUnboundedDisk() {
        final long state = 2L << 20;
        final Chain c = Chain.uniform(1024, state, 8_000_000);
        final long offHeap = 115L << 20;
        final StepTimeModel m = model(1.7, Map.of(
                Tier.OFF_HEAP, new TierCosts(offHeap, 30_000_000_000L, 30_000_000_000L, 30_000),
                Tier.DISK, new TierCosts(1L << 50, 15_000_000_000L, 15_000_000_000L, 15_000)));
        final long t0 = System.nanoTime();
        final TieredPlanner.Solution s = new TieredPlanner(24L << 20, Map.of()).solve(c, m);
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        // Segments limited in length: about a second on the 2-core development machine, 37 s before.
        assertTrue(ms < 10_000, ms + " ms");
        assertEquals("tiered:24MiB (approx)", s.plan().name());
        assertTrue(s.usesTiers(), s.plan().name());
        assertTrue(s.predicted().peakHeld(Tier.OFF_HEAP) > 0, "off-heap is used as far as it goes");
        assertTrue(s.predicted().peakHeld(Tier.DISK) > 0, "disk takes the rest");
        assertTrue(s.predicted().peakHeld(Tier.OFF_HEAP) <= offHeap, s.predicted().toString());
        assertTrue(s.plan().cost(c).peakBytes() <= 24L << 20);
        assertTrue(s.predicted().totalNanos() < s.heapOnlyPredicted().totalNanos());
        assertEquals(s.predicted(), m.times(c).predict(s.plan()));
    }
}
