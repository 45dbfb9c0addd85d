package dev.checkprop.select;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.StepTimeModel;
import dev.checkprop.plan.Tier;
import dev.checkprop.plan.TierCosts;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TierProbeTest {

    @Test
    void parsesGivenSpeedsAndNamesWhatIsWrong() {
        assertEquals(Map.of("unit", "2e-11", "disk.write", "1.5e9", "offheap.capacity", "2GiB"),
                TierProbe.parse("unit=2e-11, disk.write=1.5e9,offheap.capacity=2GiB"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TierProbe.parse("tape.write=1")).getMessage()
                .contains("'tape.write=1' is not KEY=VALUE with KEY one of [unit, backward"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TierProbe.parse("disk.read=fast")).getMessage()
                .contains("disk.read must be a non-negative number, got 'fast'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> TierProbe.parse("disk.capacity=-1")).getMessage()
                .contains("disk.capacity must be a non-negative number of bytes"));
    }

    /** The whole probe on a small network: every figure measured, positive, within a second or two. */
    @Test
    void measuresComputeAndBothTiers() {
        final Network net = Network.builder(64).dense(6, 64, Activation.RELU).dense(8, Activation.IDENTITY).build(1);
        final long t0 = System.nanoTime();
        final StepTimeModel m = TierProbe.model(net, 64, StateModel.Mode.GRADIENT, 1);
        final long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(m.secondsPerCostUnit() > 0 && m.secondsPerCostUnit() < 1e-3, m.toString());
        assertTrue(m.backwardRatio() > 0.1 && m.backwardRatio() < 50, m.toString());
        for (Tier t : Tier.values()) {
            final TierCosts c = m.tiers().get(t);
            assertTrue(c.writeBytesPerSecond() > 1_000_000 && c.readBytesPerSecond() > 1_000_000, t + ": " + c);
            assertTrue(c.capacityBytes() > 0, t + ": " + c);
        }
        assertTrue(ms < 10_000, ms + " ms");
        // Cached: the second call measures nothing.
        final long t1 = System.nanoTime();
        final StepTimeModel again = TierProbe.model(net, 64, StateModel.Mode.GRADIENT, 1);
        assertTrue((System.nanoTime() - t1) / 1_000_000 < 200);
        assertEquals(m.secondsPerCostUnit(), again.secondsPerCostUnit());
        assertEquals(m.tiers().get(Tier.DISK).writeBytesPerSecond(), again.tiers().get(Tier.DISK).writeBytesPerSecond());
    }

    /**
     * The disk tier is measured where the executor will spill: a spill directory that is not there
     * is the error of measuring in it, naming it, not a figure taken from java.io.tmpdir; an existing
     * one gets its own measurement and its own file system's space.
     */
    @Test
    void measuresTheDiskInTheSpillDirectoryGiven(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) {
        final Network net = Network.builder(16).dense(4, 16, Activation.TANH).dense(4, Activation.IDENTITY).build(1);
        final java.nio.file.Path missing = tmp.resolve("no-such-dir");
        final RuntimeException e = assertThrows(RuntimeException.class,
                () -> TierProbe.model(net, 8, StateModel.Mode.GRADIENT, 1, missing));
        assertTrue(e.getMessage().contains("measuring tier disk in " + missing), e.getMessage());
        final StepTimeModel m = TierProbe.model(net, 8, StateModel.Mode.GRADIENT, 1, tmp);
        assertTrue(m.tiers().get(Tier.DISK).writeBytesPerSecond() > 1_000_000, m.toString());
        // Other programs may write meanwhile: the same file system's space within 1%.
        final long cap = TierProbe.capacity(Tier.DISK, tmp);
        assertTrue(Math.abs(cap - m.tiers().get(Tier.DISK).capacityBytes()) <= cap / 100, m + " vs " + cap);
    }
}
