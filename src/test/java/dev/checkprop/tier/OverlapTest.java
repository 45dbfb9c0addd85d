package dev.checkprop.tier;

import dev.checkprop.exec.Executor;
import dev.checkprop.exec.RunStats;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.plan.Tier;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A read placed early overlaps the computation in between: on a disk whose reads take 25 ms each,
 * {@code R1} just before its use makes the computing thread wait about that long, and {@code R1} placed
 * before the loss and the last layer's backward (a few hundred million multiply-adds) makes it wait far
 * less. Same gradients, to the bit, as full storage either way.
 */
class OverlapTest {

    @TempDir
    Path spill;

    private final DiskSlots.ChannelOpener original = DiskSlots.opener;

    @AfterEach
    void restore() {
        DiskSlots.opener = original;
    }

    private static final String FORWARD = "F1 W1@disk F2 D1 F3 D2 F4 D3 F5 D4 F6 ";
    private static final String SEGMENT = "F2 F3 F4 B5 D5 B4 D4 B3 D3 B2 D2 B1 D1 X1";
    /** Reads a^1 right where the recomputation needs it. */
    static final String LATE = FORWARD + "LOSS B6 D6 R1 " + SEGMENT;
    /** Reads a^1 before the loss and B6, which then run while the read is under way. */
    static final String EARLY = FORWARD + "R1 LOSS B6 D6 " + SEGMENT;

    @Test
    void anEarlyReadWaitsLessAndGivesTheSameBits() {
        Network net = TestNets.withRandomBias(Network.builder(512).dense(6, 512, Activation.TANH).build(7), 8);
        Batch data = TestNets.regression(net, 2048, 9);
        DiskSlots.opener = p -> new FailingChannel(FileChannel.open(p, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.READ, StandardOpenOption.WRITE), Long.MAX_VALUE, 25);
        Gradients full = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, Planners.parse("full").plan(6), data.size(), Kernels.get(), 1)) {
            ex.gradient(data, Loss.MSE, full);
        }
        long[] waits = new long[2];
        String[] plans = {LATE, EARLY};
        for (int k = 0; k < 2; k++) {
            Plan plan = Plan.parse(k == 0 ? "late" : "early", 6, plans[k]);
            try (Executor ex = new Executor(net, plan, data.size(), Kernels.get(), 1, spill)) {
                long best = Long.MAX_VALUE;
                for (int rep = 0; rep < 3; rep++) {
                    Gradients g = Gradients.zerosLike(net);
                    ex.gradient(data, Loss.MSE, g);
                    for (int l = 1; l <= 6; l++) {
                        assertArrayEquals(full.weights(l), g.weights(l), plan.name() + ": dW^" + l);
                    }
                    RunStats run = ex.lastRun();
                    assertEquals(4L * 512 * 2048, run.bytesRead(Tier.DISK));
                    best = Math.min(best, run.ioWaitNanos());
                }
                waits[k] = best;
            }
        }
        assertTrue(waits[0] >= 20_000_000L, "the late read waited for the slow disk: " + waits[0] + " ns");
        assertTrue(waits[1] < waits[0] / 2, "the early read hid most of it: " + waits[1] + " ns against " + waits[0]);
    }
}
