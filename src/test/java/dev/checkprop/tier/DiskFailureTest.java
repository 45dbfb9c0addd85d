package dev.checkprop.tier;

import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.RandomTierPlans;
import dev.checkprop.plan.Tier;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A disk that fills up mid-run: the gradient call fails with one clear {@link TierException} naming the
 * layer, the bytes, the spill file and the cause; the gradients are not claimed (the executor answers
 * the same failure on every later call, because a copy it needs is missing); closing it leaves nothing
 * in the spill directory. The failure is injected into the spill file's channel (a full file system
 * cannot be made portably in a test), after some writes have succeeded.
 */
class DiskFailureTest {

    @TempDir
    Path spill;

    private final DiskSlots.ChannelOpener original = DiskSlots.opener;

    @AfterEach
    void restore() {
        DiskSlots.opener = original;
    }

    @Test
    void aFullDiskMidRunIsOneCleanErrorAndLeavesNothing() throws Exception {
        Network net = TestNets.withRandomBias(TestNets.chain(4, 8, 16, Activation.TANH, 2, Activation.IDENTITY, 3), 4);
        Batch data = TestNets.regression(net, 32, 5);
        Tier[] disk = new Tier[net.depth() + 1];
        Arrays.fill(disk, Tier.DISK);
        Plan plan = RandomTierPlans.offload(net.depth(), disk);
        long state = 4L * 16 * 32;
        // The sizing byte, then three states: the fourth write fails.
        DiskSlots.opener = p -> new FailingChannel(FileChannel.open(p, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE), 1 + 3 * state);
        Gradients g = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, plan, data.size(), Kernels.get(), 2, spill)) {
            TierException e = assertThrows(TierException.class, () -> ex.gradient(data, Loss.MSE, g));
            Path file = ex.tiers().spillFile();
            assertEquals("could not write the state of layer 4 (" + state + " bytes) to disk (" + file
                    + "): No space left on device", e.getMessage());
            TierException again = assertThrows(TierException.class, () -> ex.gradient(data, Loss.MSE, g));
            assertEquals(e.getMessage(), again.getMessage());
            assertTrue(Files.exists(file), "the spill file lives while its executor does");
        }
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "left in the spill directory");
        }
    }

    /** The same plan without the failure: it runs, so the failure above is the channel's and nothing else's. */
    @Test
    void theSamePlanRunsOnAWorkingDisk() {
        Network net = TestNets.withRandomBias(TestNets.chain(4, 8, 16, Activation.TANH, 2, Activation.IDENTITY, 3), 4);
        Batch data = TestNets.regression(net, 32, 5);
        Tier[] disk = new Tier[net.depth() + 1];
        Arrays.fill(disk, Tier.DISK);
        try (Executor ex = new Executor(net, RandomTierPlans.offload(net.depth(), disk), data.size(), Kernels.get(), 2,
                spill)) {
            ex.gradient(data, Loss.MSE, Gradients.zerosLike(net));
            assertEquals(7L * 4 * 16 * 32, ex.lastRun().bytesWritten(Tier.DISK));
        }
    }
}
