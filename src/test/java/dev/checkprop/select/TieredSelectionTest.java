package dev.checkprop.select;

import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Planners;
import dev.checkprop.plan.StepTimeModel;
import dev.checkprop.plan.Tier;
import dev.checkprop.plan.TierCosts;
import dev.checkprop.plan.TieredPlanner;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TieredSelectionTest {

    private static final int BATCH = 32;
    private static final Network NET = Network.builder(48).dense(48, 48, Activation.TANH).dense(48, Activation.IDENTITY)
            .build(3);
    private static final ArrayLayout LAYOUT = ArrayLayout.current().heapFootprint();

    /** Units as MemoryModel.chain scales them, 1 ns of compute each; one tier at the given speed. */
    private static StepTimeModel model(long bytesPerSecond, long latencyNanos) {
        return new StepTimeModel(1e-9, 2.0, Map.of(Tier.OFF_HEAP,
                new TierCosts(1L << 40, bytesPerSecond, bytesPerSecond, latencyNanos)));
    }

    private static long usableFor(int buffers) {
        final Chain chain = MemoryModel.chain(NET, BATCH, StateModel.Mode.GRADIENT, LAYOUT);
        return PlanSelection.fixedBytes(NET, BATCH, BATCH, false, new long[0], StateModel.Mode.GRADIENT, LAYOUT)
                + buffers * chain.bytes(1);
    }

    @Test
    void autoTakesTheTiersWhenTheyMakeTheStepFaster() {
        final PlanSelection.Selection heapOnly = PlanSelection.auto(NET, BATCH, false, new long[0],
                StateModel.Mode.GRADIENT, LAYOUT, usableFor(3), micro -> null);
        assertTrue(heapOnly.plan().name().startsWith("budget:"), heapOnly.plan().name());
        assertFalse(heapOnly.plan().usesTiers());
        final PlanSelection.Selection fast = PlanSelection.auto(NET, BATCH, false, new long[0], StateModel.Mode.GRADIENT,
                LAYOUT, usableFor(3), micro -> model(1L << 40, 0));
        assertTrue(fast.plan().usesTiers(), fast.explanation());
        assertTrue(fast.plan().name().startsWith("tiered:"), fast.plan().name());
        assertEquals(heapOnly.budgetBytes(), fast.budgetBytes());
        assertTrue(fast.explanation().contains("; tiers make the step faster: tiered:"), fast.explanation());
        assertTrue(fast.plan().stats().forwardEvaluations() < heapOnly.plan().stats().forwardEvaluations());
        assertTrue(fast.predicted().peakLiveBytes() <= fast.budgetBytes());
    }

    @Test
    void autoIsUnchangedWhenTiersDoNotHelp() {
        final PlanSelection.Selection heapOnly = PlanSelection.auto(NET, BATCH, false, new long[0], StateModel.Mode.GRADIENT,
                LAYOUT, usableFor(3), micro -> null);
        // 1 KB/s: every transfer costs far more than recomputing.
        final PlanSelection.Selection slow = PlanSelection.auto(NET, BATCH, false, new long[0], StateModel.Mode.GRADIENT,
                LAYOUT, usableFor(3), micro -> model(1000, 0));
        assertEquals(heapOnly.plan().actionsText(), slow.plan().actionsText());
        assertEquals(heapOnly.plan().name(), slow.plan().name());
        assertEquals(heapOnly.explanation(), slow.explanation());
        // Full storage fits: the probe is not even asked.
        final PlanSelection.Selection roomy = PlanSelection.auto(NET, BATCH, false, new long[0], StateModel.Mode.GRADIENT,
                LAYOUT, usableFor(100), micro -> {
                    throw new AssertionError("no probe needed");
                });
        assertEquals(NET.depth(), roomy.plan().stats().forwardEvaluations());
    }

    @Test
    void autoNeedsTheGainToExceedTheProbesNoise() {
        final Chain chain = MemoryModel.chain(NET, BATCH, StateModel.Mode.GRADIENT, LAYOUT);
        final long budget = 3 * chain.bytes(1);
        final PlanSelection.Selection heapOnly = PlanSelection.auto(NET, BATCH, false, new long[0], StateModel.Mode.GRADIENT,
                LAYOUT, usableFor(3), micro -> null);
        // Search for a bandwidth at which the tiered plan is faster, but by less than the margin.
        for (long bw = 1000; bw < 1L << 40; bw *= 2) {
            final StepTimeModel m = model(bw, 0);
            final TieredPlanner.Solution s = PlanSelection.tieredPlan(NET, BATCH, new TieredPlanner(budget, Map.of()),
                    StateModel.Mode.GRADIENT, LAYOUT, m);
            final long heap = s.heapOnlyPredicted().totalNanos();
            final long tiered = s.predicted().totalNanos();
            final TieredPlanner.Solution a = PlanSelection.tieredAuto(NET, BATCH, budget, heapOnly.plan(),
                    StateModel.Mode.GRADIENT, LAYOUT, m);
            if (tiered * 100 > heap * (100 - PlanSelection.AUTO_TIER_GAIN_PERCENT)) {
                assertNull(a, bw + " B/s");
            } else {
                assertTrue(a != null && a.usesTiers(), bw + " B/s");
            }
        }
    }

    @Test
    void tieredCopiesAreTheStatesArraysWithoutHeaders() {
        final Chain chain = MemoryModel.chain(NET, BATCH, StateModel.Mode.GRADIENT, LAYOUT);
        final TieredPlanner.Solution s = PlanSelection.tieredPlan(NET, BATCH, new TieredPlanner(3 * chain.bytes(1), Map.of()),
                StateModel.Mode.GRADIENT, LAYOUT, model(1L << 40, 0));
        assertTrue(s.usesTiers());
        final long copy = 4L * 48 * BATCH; // tanh keeps no tape: n rows of floats
        assertEquals(0, s.predicted().written(Tier.OFF_HEAP) % copy);
        assertEquals(s.plan().stats().writes(Tier.OFF_HEAP) * copy, s.predicted().written(Tier.OFF_HEAP));
    }

    @Test
    void tieredRefusesCurvatureAndABadSpec() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PlanSelection.select("tiered:1MiB", NET, BATCH, false,
                new long[0], StateModel.Mode.CURVATURE)).getMessage().contains("for curvature products use budget:1MiB"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> PlanSelection.select("tiered:1MiB,floppy:1MB", NET,
                BATCH)).getMessage().contains("unknown tier 'floppy'"));
        assertTrue(Planners.SYNTAX.contains("tiered:"));
    }
}
