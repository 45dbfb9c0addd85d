package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChainTest {

    @Test
    void ofIsZeroBasedAndCopies() {
        final long[] bytes = {10, 20, 30};
        final long[] cost = {1, 2, 3};
        final Chain c = Chain.of(bytes, cost);
        bytes[0] = 99;
        cost[0] = 99;
        assertEquals(3, c.layers());
        assertEquals(10, c.bytes(1));
        assertEquals(30, c.bytes(3));
        assertEquals(1, c.cost(1));
        assertEquals(3, c.cost(3));
        assertEquals(60, c.totalBytes());
        assertEquals(6, c.totalCost());
        assertThrows(IndexOutOfBoundsException.class, () -> c.bytes(0));
        assertThrows(IndexOutOfBoundsException.class, () -> c.cost(4));
        assertFalse(c.isUniform());
        assertEquals("Chain[L=3, bytes=[10, 20, 30], cost=[1, 2, 3]]", c.toString());
    }

    @Test
    void uniformIsTheCountModel() {
        final Chain c = Chain.uniform(4);
        assertTrue(c.isUniform());
        assertEquals(4, c.totalBytes());
        assertEquals(4, c.totalCost());
        assertEquals(Chain.of(new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1}), c);
        assertEquals(Chain.of(new long[] {1, 1, 1, 1}, new long[] {1, 1, 1, 1}).hashCode(), c.hashCode());
        assertNotEquals(Chain.uniform(4, 2, 1), c);
        assertEquals(Chain.of(new long[] {8, 8}, new long[] {3, 3}), Chain.uniform(2, 8, 3));
        // A plan's counts are its cost in the count model.
        final Plan p = new OptimalPlanner(3).plan(9);
        assertEquals(new PlanCost(p.stats().forwardEvaluations(), p.stats().peakLiveBuffers(), p.stats().peakAction()),
                p.cost(Chain.uniform(9)));
    }

    @Test
    void minimumBudgetIsTheLargestAdjacentPairOrTheFirstActivation() {
        assertEquals(7, Chain.of(new long[] {7}, new long[] {1}).minBudget());
        assertEquals(12, Chain.of(new long[] {5, 7}, new long[] {1, 1}).minBudget());
        assertEquals(101, Chain.of(new long[] {100, 1, 1}, new long[] {1, 1, 1}).minBudget());
        assertEquals(10, Chain.of(new long[] {9, 1, 1, 1}, new long[] {1, 1, 1, 1}).minBudget());
        assertEquals(11, Chain.of(new long[] {1, 1, 10, 1}, new long[] {1, 1, 1, 1}).minBudget());
        assertEquals(2, Chain.uniform(1000).minBudget());
        assertEquals(1, Chain.uniform(1).minBudget());
    }

    @Test
    void rejectsBadChains() {
        assertEquals("a plan needs at least 1 layer, got 0",
                assertThrows(IllegalArgumentException.class, () -> Chain.of(new long[0], new long[0])).getMessage());
        assertEquals("a plan needs at least 1 layer, got 0",
                assertThrows(IllegalArgumentException.class, () -> Chain.uniform(0)).getMessage());
        assertEquals("chain: 2 sizes but 1 costs",
                assertThrows(IllegalArgumentException.class, () -> Chain.of(new long[] {1, 2}, new long[] {1})).getMessage());
        assertEquals("chain: bytes of layer 2 must be positive, got 0",
                assertThrows(IllegalArgumentException.class, () -> Chain.of(new long[] {1, 0}, new long[] {1, 1})).getMessage());
        assertEquals("chain: cost of layer 1 must be positive, got -3",
                assertThrows(IllegalArgumentException.class, () -> Chain.of(new long[] {1, 1}, new long[] {-3, 1})).getMessage());
        assertEquals("chain: total bytes or cost overflow a long",
                assertThrows(IllegalArgumentException.class,
                        () -> Chain.of(new long[] {Long.MAX_VALUE, 1}, new long[] {1, 1})).getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Chain.of(new long[] {1, 1}, new long[] {1L << 58, 1L << 58}));
        assertTrue(e.getMessage().startsWith("chain costs too large"), e.getMessage());
    }

    @Test
    void longChainsPrintElided() {
        final Chain c = Chain.uniform(20, 3, 4);
        assertEquals("Chain[L=20, bytes=[3, 3, 3, 3, 3, 3, 3, 3, ..., 3, 3, 3, 3, 3, 3, 3, 3], "
                + "cost=[4, 4, 4, 4, 4, 4, 4, 4, ..., 4, 4, 4, 4, 4, 4, 4, 4]]", c.toString());
    }
}
