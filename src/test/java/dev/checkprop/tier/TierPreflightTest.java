package dev.checkprop.tier;

import dev.checkprop.exec.Executor;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.RandomTierPlans;
import dev.checkprop.plan.Tier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tiers that do not fit are refused when the executor is built, before anything is allocated (the
 * states here would take tens of GiB), with the figures: the direct memory this JVM may reserve, and
 * the spill directory's usable space.
 */
class TierPreflightTest {

    @TempDir
    Path spill;

    /** Width 16, {@code layers} layers: with a batch of {@code batch}, each state is 64·batch bytes. */
    private static Network narrow(int layers) {
        return Network.builder(16).dense(layers, 16, Activation.TANH).build(1);
    }

    @Test
    void offHeapBeyondTheDirectMemoryLimitIsRefusedWithTheFigures() {
        long limit = DirectMemory.limit();
        int batch = 1 << 20; // 64 MiB a state
        int layers = (int) Math.min(4000, limit / (64L << 20) + 3);
        Tier[] off = new Tier[layers + 1];
        Arrays.fill(off, Tier.OFF_HEAP);
        Plan plan = RandomTierPlans.offload(layers, off);
        long before = DirectMemory.used();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Executor(narrow(layers), plan, batch, dev.checkprop.kernel.Kernels.get(), 1, spill));
        long need = (layers - 1) * (64L << 20);
        assertTrue(e.getMessage().startsWith("plan offload: its tier copies need " + TierPreflight.human(need)
                + " of direct memory but this JVM may reserve "),
                e.getMessage());
        assertTrue(e.getMessage().contains("(-XX:MaxDirectMemorySize " + TierPreflight.human(limit)), e.getMessage());
        assertTrue(e.getMessage().endsWith("give a larger -XX:MaxDirectMemorySize, or a plan with fewer copies off the heap"),
                e.getMessage());
        assertEquals(before, DirectMemory.used(), "nothing was allocated");
    }

    @Test
    void diskBeyondTheFreeSpaceIsRefusedWithTheFigures() throws Exception {
        long usable = Files.getFileStore(spill).getUsableSpace();
        int batch = 1 << 24; // 1 GiB a state
        int layers = (int) (usable / (1L << 30)) + 3;
        Tier[] disk = new Tier[layers + 1];
        Arrays.fill(disk, Tier.DISK);
        Plan plan = RandomTierPlans.offload(layers, disk);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new Executor(narrow(layers), plan, batch, dev.checkprop.kernel.Kernels.get(), 1, spill));
        assertTrue(e.getMessage().startsWith("plan offload: its disk tier needs " + TierPreflight.human((layers - 1L) << 30)
                + " in the spill directory " + spill + " but its file system ("), e.getMessage());
        assertTrue(e.getMessage().endsWith(" usable; free some space, name another --spill-dir, or a plan with fewer copies on disk"),
                e.getMessage());
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "nothing was created");
        }
    }
}
