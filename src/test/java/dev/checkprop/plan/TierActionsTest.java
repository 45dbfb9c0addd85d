package dev.checkprop.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tier actions W l@tier, R l, X l: text, checking, counts and the simulation's tier bytes and slots. */
class TierActionsTest {

    /** a^1 kept off the heap and a^2 on disk, read back for the backward pass. */
    static final String TWO_TIERS = "F1 W1@offheap F2 W2@disk D1 F3 LOSS B3 D3 D2 R2 R1 B2 D2 X2 B1 D1 X1";

    @Test
    void textRoundTripsAndNamesTheTier() {
        Plan p = Plan.parse("t", 3, TWO_TIERS);
        assertEquals(TWO_TIERS, p.actionsText());
        assertEquals(p, Plan.parse("again", 3, p.actionsText()));
        assertEquals(Plan.Op.WRITE, p.op(1));
        assertEquals(Tier.OFF_HEAP, p.tier(1));
        assertEquals(Tier.DISK, p.tier(3));
        assertEquals(new Plan.Action(Plan.Op.WRITE, 2, Tier.DISK), p.action(3));
        assertEquals(new Plan.Action(Plan.Op.READ, 2), p.action(10));
        assertEquals(new Plan.Action(Plan.Op.DISCARD, 2), p.action(14));
        assertNull(p.action(10).tier());
        assertThrows(IllegalArgumentException.class, () -> p.tier(0));
        assertTrue(p.usesTiers());
        assertFalse(Plan.parse("h", 3, "F1 F2 F3 LOSS B3 D3 B2 D2 B1 D1").usesTiers());
        // The same actions with a^2 written off the heap instead is a different plan.
        assertFalse(p.equals(Plan.parse("o", 3, TWO_TIERS.replace("W2@disk", "W2@offheap"))));
        Plan built = Plan.builder("b", 1).forward(1).write(1, Tier.DISK).loss().backward(1).drop(1).discard(1).build();
        assertEquals("F1 W1@disk LOSS B1 D1 X1", built.actionsText());
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "F1 W1 LOSS B1 D1; names no tier (expected W1@offheap or W1@disk)",
            "F1 W1@ssd LOSS B1 D1; unknown tier 'ssd' (expected offheap or disk)",
            "F1@disk LOSS B1 D1; only a write names a tier",
            "F1 Q1 LOSS B1 D1; unknown plan action 'Q1'",
            "F1 Wx@disk; unknown plan action 'Wx@disk'",
    })
    void badTokensAreNamed(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plan.parse("bad", 1, text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @ParameterizedTest(name = "[{index}] ''{1}''")
    @CsvSource(delimiter = ';', value = {
            "2; F1 R1; 1; reads a1, which has no tier copy (a write W1@offheap or W1@disk must come first)",
            "2; F1 W1@disk R1; 2; reads a1, which is already live",
            "2; F1 W1@disk W1@offheap; 2; writes a1 a second time: action #1 (W1@disk) already holds a copy in disk",
            "2; F1 W1@disk D1 W1@offheap; 3; writes a1, which is not live",
            "2; W1@disk; 0; writes a1, which is not live",
            "2; F1 X1; 1; discards the tier copy of a1, which has none",
            "2; F1 W1@disk X1 X1; 3; discards the tier copy of a1, which has none",
            "2; F1 W1@disk X1 R1; 3; reads a1, which has no tier copy",
            "2; F1 W3@disk; 1; names layer 3, outside 1..2",
            "2; F1 R0; 1; names layer 0, outside 1..2",
            "2; F1 W1@offheap F2 LOSS B2 D2 B1 D1; -1; ends with the tier copy of a1 (written to offheap by action #1) still held; discard it (X1)",
    })
    void invalidTierActionsFailAtTheRightAction(int layers, String text, int index, String reason) {
        InvalidPlanException e = assertThrows(InvalidPlanException.class, () -> Plan.parse("bad", layers, text));
        assertEquals(index, e.index(), e.getMessage());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        if (index >= 0) {
            assertTrue(e.getMessage().contains("action #" + index + " (" + text.trim().split("\\s+")[index] + ")"),
                    e.getMessage());
        }
    }

    @Test
    void aReadCountsAsALiveBufferAndARecomputeStaysLegal() {
        Plan p = Plan.parse("t", 3, TWO_TIERS);
        PlanStats s = p.stats();
        assertEquals(3, s.forwardEvaluations());
        assertEquals(1, s.writes(Tier.OFF_HEAP));
        assertEquals(1, s.writes(Tier.DISK));
        assertEquals(1, s.reads(Tier.OFF_HEAP));
        assertEquals(1, s.reads(Tier.DISK));
        assertEquals(1, s.peakCopies(Tier.OFF_HEAP));
        assertEquals(1, s.peakCopies(Tier.DISK));
        // Never more than two: a^1 a^2 after F2, a^2 a^3 after F3, a^2 a^1 again after R2 R1.
        assertEquals(2, s.peakLiveBuffers());
        assertEquals(2, s.peakAction());
        assertTrue(s.toString().contains("offheap 1 writes, 1 reads, peak 1 copies"), s.toString());
        // The peak can be a read's: a^1 read back while a^2 and a^3 are live.
        Plan readPeak = Plan.parse("r", 3, "F1 W1@offheap D1 F1 F2 D1 F3 LOSS B3 R1 B2 D3 D2 B1 D1 X1");
        assertEquals(9, readPeak.stats().peakAction());
        assertEquals(3, readPeak.stats().peakLiveBuffers());
        assertEquals(3, readPeak.cost(Chain.uniform(3)).peakBytes());
        assertEquals(9, readPeak.cost(Chain.uniform(3)).peakBytesAction());
        // F l while a copy of a^l is held: recompute instead of read, then discard the unused copy.
        Plan recompute = Plan.parse("f", 2, "F1 W1@disk D1 F1 F2 LOSS B2 D2 B1 D1 X1");
        assertEquals(3, recompute.stats().forwardEvaluations());
        assertEquals(0, recompute.stats().reads(Tier.DISK));
    }

    @Test
    void theSimulationCountsTierBytesAndSlots() {
        Plan p = Plan.parse("t", 3, TWO_TIERS);
        long[] size = {0, 5, 9, 3};
        Simulation sim = Simulation.of(p, size, f -> 100 + f, f -> 4 * f);
        // Heap: a read takes a buffer like a forward.
        long[] heap = {105, 105, 214, 214, 109, 212, 212, 212, 109, 0, 109, 214, 214, 105, 105, 105, 0, 0};
        long[] off = {0, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20, 0};
        long[] disk = {0, 0, 0, 36, 36, 36, 36, 36, 36, 36, 36, 36, 36, 36, 0, 0, 0, 0};
        assertEquals(heap.length, p.size());
        for (int i = 0; i < p.size(); i++) {
            assertEquals(heap[i], sim.liveBytesAfter(i), "heap after " + p.action(i));
            assertEquals(off[i], sim.tierBytesAfter(Tier.OFF_HEAP, i), "offheap after " + p.action(i));
            assertEquals(disk[i], sim.tierBytesAfter(Tier.DISK, i), "disk after " + p.action(i));
        }
        assertTrue(sim.usesTiers());
        assertEquals(20, sim.tierPeakBytes(Tier.OFF_HEAP));
        assertEquals(1, sim.tierPeakAction(Tier.OFF_HEAP));
        assertEquals(36, sim.tierPeakBytes(Tier.DISK));
        assertEquals(3, sim.tierPeakAction(Tier.DISK));
        assertEquals(1, sim.tierSlots(Tier.DISK));
        assertEquals(9, sim.tierSlotSize(Tier.DISK, 0));
        assertEquals(36, sim.tierAllocatedBytes(Tier.DISK));
        assertEquals(0, sim.tierSlotOf(3));
        assertEquals(0, sim.tierSlotOf(10));
        assertEquals(Tier.DISK, sim.tierOf(10));
        assertEquals(Tier.OFF_HEAP, sim.tierOf(11));
        assertNull(sim.tierOf(0));
        assertEquals(-1, sim.tierSlotOf(0));
        // R2 and R1 take heap buffers: the read of a^2 reuses the buffer a^3 (size 3) left, grown to 9.
        assertTrue(sim.bufferOf(10) >= 0 && sim.bufferOf(11) >= 0);
        assertEquals(sim.peakBytes(), 214);
    }

    /** Slots are reused as heap buffers are: a copy freed by X l is the next write's slot. */
    @Test
    void slotsAreReused() {
        Plan p = Plan.parse("s", 3, "F1 W1@disk X1 W1@disk F2 W2@disk D1 F3 LOSS B3 D3 R1 B2 D2 X2 B1 D1 X1");
        Simulation sim = Simulation.of(p, new long[] {0, 4, 4, 4}, f -> f);
        assertEquals(2, sim.tierSlots(Tier.DISK));
        assertEquals(2, sim.tierPeakCopies(Tier.DISK));
        assertEquals(2, p.stats().peakCopies(Tier.DISK));
        assertEquals(0, sim.tierSlotOf(1));
        assertEquals(0, sim.tierSlotOf(3));
        assertEquals(1, sim.tierSlotOf(5));
        assertEquals(0, sim.tierSlotOf(11));
        assertEquals(0, sim.tierSlots(Tier.OFF_HEAP));
        assertEquals(8, sim.tierAllocatedBytes(Tier.DISK));
    }

    /** A heap-only plan: no tier figures, and the heap's exactly as before (the random plans of SimulationTest). */
    @Test
    void heapOnlyPlansHaveNoTierFigures() {
        Random rnd = new Random(16);
        for (String spec : new String[] {"full", "sqrt", "binomial:3", "optimal:4"}) {
            Plan plan = Planners.parse(spec).plan(20);
            long[] size = new long[21];
            for (int l = 1; l <= 20; l++) {
                size[l] = 1 + rnd.nextInt(50);
            }
            Simulation a = Simulation.of(plan, size, f -> 16 + 4 * f);
            Simulation b = Simulation.of(plan, size, f -> 16 + 4 * f, f -> 4 * f);
            assertFalse(a.usesTiers());
            for (Tier t : Tier.values()) {
                assertEquals(0, b.tierPeakBytes(t));
                assertEquals(0, b.tierSlots(t));
                assertEquals(0, plan.stats().writes(t));
            }
            assertEquals(a.peakBytes(), b.peakBytes());
            assertEquals(a.allocatedBytes(), b.allocatedBytes());
            for (int i = 0; i < plan.size(); i++) {
                assertEquals(a.bufferOf(i), b.bufferOf(i));
                assertEquals(-1, b.tierSlotOf(i));
            }
        }
    }
}
