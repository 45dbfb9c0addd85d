package dev.checkprop.plan;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one simulator: live bytes, peak, and the buffers an executor allocates, against hand counts and invariants. */
class SimulationTest {

    private static long[] sizes(int... s) {
        long[] r = new long[s.length + 1];
        for (int l = 1; l <= s.length; l++) {
            r[l] = s[l - 1];
        }
        return r;
    }

    /** Equal sizes: exactly the live peak is allocated, as buffers of that size. */
    @Test
    void equalSizesAllocateTheLivePeak() {
        for (String spec : new String[] {"full", "sqrt", "binomial:3", "optimal:4", "uniform:3"}) {
            Plan plan = Planners.parse(spec).plan(40);
            long[] size = new long[41];
            java.util.Arrays.fill(size, 1, 41, 10);
            Simulation sim = Simulation.of(plan, size, f -> 16 + 4 * f);
            assertEquals(plan.stats().peakLiveBuffers(), sim.buffers(), spec);
            assertEquals(plan.stats().peakLiveBuffers(), sim.peakStates(), spec);
            assertEquals(sim.buffers() * 56L, sim.allocatedBytes(), spec);
            assertEquals(sim.peakBytes(), sim.allocatedBytes(), spec);
            assertEquals(sim.peakBytes(), sim.occupiedBytesAtPeak(), spec);
            assertEquals(PlanChecker.measure(plan, Chain.uniform(40, 56, 1)).peakBytes(), sim.peakBytes(), spec);
        }
    }

    /** A hand-counted plan: F1 F2 D1 F3 LOSS B3 D3 F1 B2 D2 B1 D1, with sizes 5, 9, 3. */
    @Test
    void aHandCountedPlan() {
        Plan plan = Plan.parse("hand", 3, "F1 F2 D1 F3 LOSS B3 D3 F1 B2 D2 B1 D1");
        Simulation sim = Simulation.of(plan, sizes(5, 9, 3), f -> f);
        long[] live = {5, 14, 9, 12, 12, 12, 9, 14, 14, 5, 5, 0};
        for (int i = 0; i < live.length; i++) {
            assertEquals(live[i], sim.liveBytesAfter(i), "after action " + i);
        }
        assertEquals(14, sim.peakBytes());
        assertEquals(1, sim.peakAction());
        // F1 -> new buffer 0 (5); F2 -> new buffer 1 (9); D1 frees 0; F3 (3) takes 0, the smallest that
        // fits; D3 frees it; F1 takes it again.
        assertEquals(2, sim.buffers());
        assertEquals(14, sim.allocatedBytes());
        assertEquals(0, sim.bufferOf(0));
        assertEquals(1, sim.bufferOf(1));
        assertEquals(-1, sim.bufferOf(2));
        assertEquals(0, sim.bufferOf(3));
        assertEquals(0, sim.bufferOf(7));
    }

    /** A state larger than every free buffer grows the largest free one instead of adding a buffer. */
    @Test
    void growsRatherThanAdds() {
        Plan plan = Plan.parse("grow", 3, "F1 F2 D1 F3 LOSS B3 D3 F1 B2 D2 B1 D1");
        Simulation sim = Simulation.of(plan, sizes(4, 7, 9), f -> f);
        assertEquals(2, sim.buffers());
        assertEquals(9, sim.bufferSize(0));
        assertEquals(7, sim.bufferSize(1));
        assertEquals(16, sim.allocatedBytes());
        assertEquals(16, sim.peakBytes());
        // At the peak (after F3) a^2 and a^3 occupy both buffers.
        assertEquals(16, sim.occupiedBytesAtPeak());
    }

    /** On random chains and every planner: never more buffers than live states, never less than the live peak, every state fits its buffer. */
    @Test
    void invariantsOnRandomChains() {
        Random r = new Random(12);
        for (int trial = 0; trial < 200; trial++) {
            int layers = 1 + r.nextInt(30);
            long[] size = new long[layers + 1];
            for (int l = 1; l <= layers; l++) {
                size[l] = 1 + r.nextInt(50);
            }
            for (String spec : new String[] {"full", "sqrt", "binomial:2", "optimal:3", "uniform:4"}) {
                Plan plan = Planners.parse(spec).plan(layers);
                Simulation sim = Simulation.of(plan, size, f -> f);
                assertEquals(plan.stats().peakLiveBuffers(), sim.buffers(), spec);
                assertTrue(sim.allocatedBytes() >= sim.peakBytes(), spec);
                assertTrue(sim.occupiedBytesAtPeak() >= sim.peakBytes(), spec);
                for (int i = 0; i < plan.size(); i++) {
                    if (plan.op(i) == Plan.Op.FORWARD) {
                        assertTrue(sim.bufferSize(sim.bufferOf(i)) >= size[plan.layer(i)], spec + " action " + i);
                    }
                }
            }
        }
    }

    @Test
    void refusesWhatIsNotAPlanOfThisChain() {
        Plan plan = Planners.parse("full").plan(3);
        assertThrows(IllegalArgumentException.class, () -> Simulation.of(plan, sizes(1, 2), f -> f));
        assertThrows(IllegalArgumentException.class, () -> Simulation.of(plan, sizes(1, 0, 2), f -> f));
    }
}
