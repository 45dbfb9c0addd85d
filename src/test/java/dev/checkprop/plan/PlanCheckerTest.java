package dev.checkprop.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The validity oracle: every broken rule of the memory model is caught at the right action. */
class PlanCheckerTest {

    /**
     * Each row: layers, plan text, index of the offending action (-1: the plan as a whole), and a
     * fragment of the reason.
     */
    @ParameterizedTest(name = "[{index}] L={0} ''{1}''")
    @CsvSource(delimiter = ';', value = {
            // forward from a non-live activation
            "3; F2 F3 LOSS B3 D3 B2 D2; 0; needs a1, which is not live",
            "3; F1 F2 D1 D2 F3; 4; needs a2, which is not live",
            // double forward
            "3; F1 F1; 1; recomputes a1, which is already live",
            // drop of a non-live activation
            "3; F1 D2; 1; drops a2, which is not live",
            "3; F1 D1 D1; 2; drops a1, which is not live",
            // backward out of order
            "3; F1 F2 F3 LOSS B2; 4; out of order: the backward pass is at layer 3",
            "3; F1 F2 F3 LOSS B3 D3 B1; 6; out of order: the backward pass is at layer 2",
            "3; F1 F2 F3 LOSS B3 B3; 5; out of order: the backward pass is at layer 2",
            // backward before the loss
            "3; F1 B1; 1; comes before the loss",
            // backward without its input or output
            "3; F1 F2 F3 D2 LOSS B3; 5; needs a2, which is not live",
            "3; F1 F2 F3 LOSS D3 B3; 5; needs a3, which is not live",
            // loss without a^L, second loss
            "3; F1 F2 LOSS; 2; needs a3, which is not live",
            "3; F1 F2 F3 LOSS LOSS; 4; is a second loss",
            // layer out of range
            "3; F4; 0; names layer 4, outside 1..3",
            "3; F1 D0; 1; names layer 0, outside 1..3",
            "3; F1 F2 F3 LOSS B-1; 4; names layer -1, outside 1..3",
            // incomplete plans
            "3; ''; -1; has no loss",
            "3; F1 D1; -1; has no loss",
            "3; F1 F2 F3 LOSS B3 D3 B2 D2 D1; -1; ends with the backward pass at layer 1, not 0",
            "2; F1 F2 LOSS B2 B1 D1; -1; ends with 1 buffers still live",
            "2; F1 F2 LOSS B2 B1; -1; ends with 2 buffers still live",
    })
    void invalidPlansFailAtTheRightAction(int layers, String text, int index, String reason) {
        InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> Plan.parse("bad", layers, text));
        assertEquals(index, e.index(), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().startsWith("invalid plan bad: "), e.getMessage());
        if (index >= 0) {
            String token = text.trim().split("\\s+")[index];
            assertTrue(e.getMessage().contains("action #" + index + " (" + token + ")"), e.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"Q1", "F", "Fx", "loss", "B1.5", "F99999999999", "f1"})
    void unknownTokensAreNotPlanErrors(String token) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Plan.parse("bad", 3, "F1 F2 F3 LOSS " + token));
        assertFalse(e instanceof InvalidPlanException, e.getMessage());
        assertTrue(e.getMessage().contains("unknown plan action '" + token + "'"), e.getMessage());
    }

    @Test
    void aPlanNeedsAtLeastOneLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plan.builder("x", 0));
        assertTrue(e.getMessage().contains("at least 1 layer, got 0"), e.getMessage());
    }

    @Test
    void fullStorageGoldenAndCounts() {
        Plan p = new FullStoragePlanner().plan(3);
        assertEquals("F1 F2 F3 LOSS B3 D3 B2 D2 B1 D1", p.actionsText());
        assertEquals("full", p.name());
        assertEquals(3, p.layers());
        assertEquals(10, p.size());
        PlanStats s = p.stats();
        assertEquals(3, s.forwardEvaluations());
        assertEquals(3, s.peakLiveBuffers());
        assertEquals(2, s.peakAction());
        assertEquals(0, s.recomputations());
        assertArrayEquals(new int[] {0, 1, 1, 1}, s.evaluationsPerLayer());
    }

    @Test
    void uniformGoldenAndCounts() {
        Plan p = new UniformPlanner(3).plan(8);
        assertEquals("F1 F2 D1 F3 D2 F4 F5 D4 F6 D5 F7 F8 LOSS B8 D8 B7 D7 F4 F5 B6 D6 B5 D5 B4 D4 F1 F2 B3 D3 B2 D2 B1 D1",
                p.actionsText());
        PlanStats s = p.stats();
        assertEquals(12, s.forwardEvaluations());
        assertEquals(4, s.recomputations());
        assertArrayEquals(new int[] {0, 2, 2, 1, 2, 2, 1, 1, 1}, s.evaluationsPerLayer());
        assertEquals(4, s.peakLiveBuffers()); // a3, a6, a7, a8
        assertEquals("F8", p.action(s.peakAction()).toString());
    }

    @Test
    void parseAcceptsBarsAndExtraSpaceAndRoundTrips() {
        Plan p = Plan.parse("hand", 2, "  F1 |F2\tLOSS | B2 D2\n B1 D1 ");
        assertEquals("F1 F2 LOSS B2 D2 B1 D1", p.actionsText());
        assertEquals(p, Plan.parse("again", 2, p.actionsText()));
        assertEquals(p.hashCode(), Plan.parse("again", 2, p.actionsText()).hashCode());
        assertEquals(Plan.Op.LOSS, p.op(2));
        assertEquals(0, p.layer(2));
        assertEquals(new Plan.Action(Plan.Op.BACKWARD, 2), p.action(3));
        assertEquals(7, p.actions().size());
        assertTrue(p.toString().contains("2 forward evaluations, peak 2 live buffers"), p.toString());
    }

    @Test
    void theLossMayWaitAndBuffersMayBeDroppedEarly() {
        // Not what planners write, but the model allows it: the checker must not be stricter.
        Plan p = Plan.parse("odd", 3, "F1 F2 D1 F3 D3 F3 D2 F1 F2 LOSS B3 D3 B2 D2 B1 D1");
        assertEquals(6, p.stats().forwardEvaluations());
        assertEquals(3, p.stats().peakLiveBuffers());
        assertEquals(8, p.stats().peakAction());
    }

    @Test
    void measuresBytesAndCostOnAChain() {
        final Chain chain = Chain.of(new long[] {1, 2, 3}, new long[] {10, 20, 30});
        final Plan full = Plan.parse("full", 3, "F1 F2 F3 LOSS B3 D3 B2 D2 B1 D1");
        assertEquals(new PlanCost(60, 6, 2), PlanChecker.measure(full, chain));
        assertEquals(full.cost(chain), PlanChecker.measure(full, chain));
        // a^1 is recomputed once; the peak is a^2 and a^3 together, at F3.
        final Plan re = Plan.parse("re", 3, "F1 F2 D1 F3 LOSS B3 D3 F1 B2 D2 B1 D1");
        assertEquals(new PlanCost(70, 5, 3), PlanChecker.measure(re, chain));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PlanChecker.measure(full, Chain.uniform(4)));
        assertEquals("plan full is for 3 layers, the chain has 4", e.getMessage());
    }
}
