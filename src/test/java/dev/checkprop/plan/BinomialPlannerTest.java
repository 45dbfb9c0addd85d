package dev.checkprop.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.math.BigInteger;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinomialPlannerTest {

    /** C(n, k) exactly, independently of the planner's arithmetic. */
    static long choose(long n, long k) {
        if (k < 0 || k > n) {
            return 0;
        }
        BigInteger c = BigInteger.ONE;
        for (long j = 1; j <= k; j++) {
            c = c.multiply(BigInteger.valueOf(n - k + j)).divide(BigInteger.valueOf(j));
        }
        return c.longValueExact();
    }

    /** Griewank–Walther: t(L, S) = r L - C(S+r, S+1), r smallest with C(S+r, S) >= L. */
    static long revolveSteps(int layers, int s) {
        int r = 0;
        while (choose(s + r, s) < layers) {
            r++;
        }
        return (long) r * layers - choose(s + r, s + 1);
    }

    @Test
    void evaluationsAreExactlyLPlusRevolveStepsAndPeakIsAtMostSPlusOne() {
        for (int s = 1; s <= 12; s++) {
            for (int layers = 1; layers <= 300; layers++) {
                Plan p = new BinomialPlanner(s).plan(layers);
                String what = "S=" + s + " L=" + layers;
                long expected = layers + revolveSteps(layers, s);
                assertEquals(expected, p.stats().forwardEvaluations(), what);
                assertEquals(expected, BinomialPlanner.forwardEvaluations(layers, s), what);
                assertTrue(p.stats().peakLiveBuffers() <= s + 1, what + ": peak " + p.stats().peakLiveBuffers());
                assertEquals("binomial:" + s, p.name());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"4, 8998", "8, 5285", "16, 3860", "32, 3405"})
    void revolvesOwnCountsAtAThousandSteps(int s, long total) {
        Plan p = new BinomialPlanner(s).plan(1000);
        assertEquals(total, p.stats().forwardEvaluations());
        assertEquals(1000 + revolveSteps(1000, s), total);
        assertTrue(p.stats().peakLiveBuffers() <= s + 1);
    }

    @Test
    void repetitionNumber() {
        assertEquals(0, BinomialPlanner.repetitions(1, 5));
        assertEquals(1, BinomialPlanner.repetitions(2, 1));
        assertEquals(10, BinomialPlanner.repetitions(1000, 4)); // C(14, 4) = 1001
        assertEquals(5, BinomialPlanner.repetitions(1000, 8));
        assertEquals(1, BinomialPlanner.repetitions(1000, 5000));
        for (int layers = 1; layers <= 200; layers++) {
            for (int s = 1; s <= 10; s++) {
                int r = BinomialPlanner.repetitions(layers, s);
                assertTrue(choose(s + r, s) >= layers && (r == 0 || choose(s + r - 1, s) < layers));
                // r is the most any layer is evaluated untaped: no layer runs more than r + 1 times.
                int[] per = new BinomialPlanner(s).plan(layers).stats().evaluationsPerLayer();
                for (int l = 1; l <= layers; l++) {
                    assertTrue(per[l] <= r + 1, "S=" + s + " L=" + layers + " layer " + l);
                }
            }
        }
    }

    /** Guards the test's own formula: it equals the classic recursion's minimum. */
    @Test
    void closedFormEqualsTheRecursion() {
        long[][] t = recursion(200, 10);
        for (int s = 1; s <= 10; s++) {
            for (int l = 1; l <= 200; l++) {
                assertEquals(t[l][s], revolveSteps(l, s), "l=" + l + " s=" + s);
            }
        }
    }

    /** The split rule attains the recursion's minimum everywhere, so the count is optimal by construction. */
    @Test
    void splitAttainsTheMinimumOfTheRecursion() {
        long[][] t = recursion(400, 14);
        for (int s = 1; s <= 14; s++) {
            for (int l = 2; l <= 400; l++) {
                int m = BinomialPlanner.split(l, s);
                assertTrue(m >= 1 && m < l, "l=" + l + " s=" + s + " m=" + m);
                assertEquals(t[l][s], m + t[m][s] + t[l - m][s - 1], "l=" + l + " s=" + s + " m=" + m);
            }
        }
    }

    /** T(l, s) = min over 0 < m < l of m + T(m, s) + T(l - m, s - 1); T(1, s) = 0; no snapshot: infinite. */
    static long[][] recursion(int maxL, int maxS) {
        long inf = Long.MAX_VALUE / 4;
        long[][] t = new long[maxL + 1][maxS + 1];
        for (int s = 0; s <= maxS; s++) {
            for (int l = 2; l <= maxL; l++) {
                long best = inf;
                if (s > 0) {
                    for (int m = 1; m < l; m++) {
                        best = Math.min(best, m + t[m][s] + t[l - m][s - 1]);
                    }
                }
                t[l][s] = best;
            }
        }
        return t;
    }

    @Test
    void moreSnapshotsThanLayersStillGiveAValidPlan() {
        for (int s : new int[] {10, 11, 1000, Integer.MAX_VALUE}) {
            Plan p = new BinomialPlanner(s).plan(10);
            assertEquals(19, p.stats().forwardEvaluations(), "S=" + s); // 2L - 1: every reversal re-runs its step
            assertEquals(19, BinomialPlanner.forwardEvaluations(10, s));
            assertEquals(p, new BinomialPlanner(10).plan(10));
        }
        assertEquals(1, new BinomialPlanner(Integer.MAX_VALUE).plan(1).stats().forwardEvaluations());
    }

    @Test
    void goldenPlans() {
        assertEquals("F1 LOSS B1 D1", new BinomialPlanner(1).plan(1).actionsText());
        assertEquals("F1 F2 D1 F3 LOSS B3 D3 D2 F1 F2 B2 D2 D1 F1 B1 D1", new BinomialPlanner(1).plan(3).actionsText());
        assertEquals("F1 F2 F3 LOSS B3 D3 D2 F2 B2 D2 D1 F1 B1 D1", new BinomialPlanner(3).plan(3).actionsText());
        assertEquals("F1 F2 D1 F3 F4 LOSS B4 D4 D3 F3 B3 D3 D2 F1 F2 B2 D2 D1 F1 B1 D1",
                new BinomialPlanner(2).plan(4).actionsText());
        assertEquals("F1 F2 D1 F3 D2 F4 F5 D4 F6 LOSS B6 D6 D5 F4 F5 B5 D5 D4 F4 B4 D4 D3 F1 F2 F3 B3 D3 D2 F2 B2 D2 D1 "
                + "F1 B1 D1", new BinomialPlanner(2).plan(6).actionsText());
    }

    /** Nothing recurses per layer or per split: a 256 KiB stack plans 100,000 layers. */
    @Test
    void hundredThousandLayersOnASmallStack() throws Exception {
        for (int s : new int[] {4, 8, 32, 1000}) {
            Plan p = assertTimeout(Duration.ofSeconds(5), () -> SmallStack.call(() -> new BinomialPlanner(s).plan(100_000)));
            assertEquals(100_000 + revolveSteps(100_000, s), p.stats().forwardEvaluations(), "S=" + s);
            assertTrue(p.stats().peakLiveBuffers() <= s + 1, "S=" + s);
        }
    }

    @Test
    void refusesPlansTooLargeToHold() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BinomialPlanner(1).plan(100_000));
        assertTrue(e.getMessage().startsWith("binomial:1 cannot serve 100000 layers"), e.getMessage());
        assertTrue(e.getMessage().contains("5000050000 forward evaluations"), e.getMessage());
        assertEquals(5_000_050_000L, BinomialPlanner.forwardEvaluations(100_000, 1));
    }

    @Test
    void rejectsFewerThanOneSnapshot() {
        for (int s : new int[] {0, -1, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BinomialPlanner(s));
            assertEquals("binomial:S needs S >= 1, got " + s, e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> BinomialPlanner.forwardEvaluations(5, s));
        }
        assertThrows(IllegalArgumentException.class, () -> BinomialPlanner.forwardEvaluations(0, 3));
        assertEquals(4, new BinomialPlanner(4).snapshots());
    }
}
