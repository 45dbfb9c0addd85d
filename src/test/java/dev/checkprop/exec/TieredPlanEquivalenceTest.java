package dev.checkprop.exec;

import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.plan.RandomTierPlans;
import dev.checkprop.plan.Simulation;
import dev.checkprop.plan.Tier;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every tiered plan gives the bits of full storage: many random plans with writes to both tiers, reads
 * in place of recomputations (some hoisted to overlap), in gradient and curvature mode, on 1, 2 and 3
 * threads, on dense, residual, dropout and LayerNorm layers (tape rows), with batches smaller than the
 * executor's. The executor's own tier counts equal what the plan's actions say, and no spill file
 * outlives its executor.
 */
class TieredPlanEquivalenceTest {

    @TempDir
    Path spill;

    private static final String[] BASES = {"full", "sqrt", "binomial:2", "optimal:3", "uniform:2"};

    static List<TestNets.Case> cases() {
        List<TestNets.Case> c = new ArrayList<>();
        c.add(TestNets.mixedMse(7));
        c.add(TestNets.mixedSoftmax(5));
        c.add(TestNets.dense(Activation.GELU, Activation.TANH, 6));
        Network ln = TestNets.withLayerNorms(TestNets.chain(5, 6, 9, Activation.TANH, 3, Activation.IDENTITY, 31), 32, 1, 4);
        c.add(new TestNets.Case("dense with LayerNorm, mse", ln, TestNets.regression(ln, 6, 33), dev.checkprop.nn.Loss.MSE));
        return c;
    }

    /** Random tiered plans derived from several heap plans: at least {@code perBase} each, distinct. */
    static List<Plan> plans(int depth, long seed, int perBase) {
        Random rnd = new Random(seed);
        List<Plan> out = new ArrayList<>();
        for (String base : BASES) {
            Plan p = Planners.parse(base).plan(depth);
            for (int k = 0; k < perBase; k++) {
                Plan t = RandomTierPlans.derive(p, rnd, 0.3 + 0.6 * rnd.nextDouble(), 0.4 + 0.6 * rnd.nextDouble());
                if (t.usesTiers()) {
                    out.add(t);
                }
            }
        }
        Tier[] tierOf = new Tier[depth + 1];
        for (int l = 1; l <= depth; l++) {
            tierOf[l] = Tier.values()[l % 2];
        }
        out.add(RandomTierPlans.offload(depth, tierOf));
        return out;
    }

    @Test
    void gradientsAreTheBitsOfFullStorage() throws IOException {
        int checked = 0;
        for (TestNets.Case c : cases()) {
            Network net = c.net();
            Gradients expected = Gradients.zerosLike(net);
            double loss;
            try (Executor full = new Executor(net, Planners.parse("full").plan(net.depth()), c.data().size())) {
                loss = full.gradient(c.data(), c.loss(), expected);
            }
            for (Plan plan : plans(net.depth(), c.name().hashCode(), 4)) {
                for (int threads = 1; threads <= 3; threads++) {
                    // A larger executor batch than the data's: copies are of the rows the run uses.
                    int capacity = c.data().size() + (threads == 2 ? 3 : 0);
                    try (Executor ex = new Executor(net, plan, capacity, Kernels.get(), threads, spill)) {
                        for (int rep = 0; rep < 2; rep++) {
                            Gradients got = poisoned(net);
                            ex.setStep(0);
                            double l = ex.gradient(c.data(), c.loss(), got);
                            String what = c.name() + ", " + plan.actionsText() + ", " + threads + " threads";
                            assertEquals(Double.doubleToRawLongBits(loss), Double.doubleToRawLongBits(l), what);
                            assertSameBits(expected, got, net, what);
                            assertCounts(ex, plan, c.data().size(), StateModel.Mode.GRADIENT, what);
                        }
                    }
                    checked++;
                }
            }
        }
        assertTrue(checked >= 200, "plans checked: " + checked);
        assertNoSpillLeft();
    }

    @Test
    void curvatureProductsAreTheBitsOfFullStorage() throws IOException {
        for (TestNets.Case c : cases()) {
            Network net = c.net();
            Gradients v = TestNets.direction(net, 5);
            Gradients g0 = Gradients.zerosLike(net);
            Gradients hv0 = Gradients.zerosLike(net);
            double loss;
            try (Executor full = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), c.data().size(),
                    Kernels.get(), 1)) {
                loss = full.hessianVector(c.data(), c.loss(), v, g0, hv0, Curvature.GAUSS_NEWTON);
            }
            for (Plan plan : plans(net.depth(), 7 + c.name().hashCode(), 2)) {
                for (int threads = 1; threads <= 3; threads += 2) {
                    try (Executor ex = Executor.forHessianProducts(net, plan, c.data().size(), Kernels.get(), threads, spill)) {
                        Gradients g = poisoned(net);
                        Gradients hv = poisoned(net);
                        double l = ex.hessianVector(c.data(), c.loss(), v, g, hv, Curvature.GAUSS_NEWTON);
                        String what = c.name() + ", curvature, " + plan.actionsText() + ", " + threads + " threads";
                        assertEquals(Double.doubleToRawLongBits(loss), Double.doubleToRawLongBits(l), what);
                        assertSameBits(g0, g, net, what + ": gradient");
                        assertSameBits(hv0, hv, net, what + ": product");
                        assertCounts(ex, plan, c.data().size(), StateModel.Mode.CURVATURE, what);
                    }
                }
            }
        }
        assertNoSpillLeft();
    }

    /** The executor's counts: bytes per tier from the plan's writes and reads, peaks as the simulation says. */
    static void assertCounts(Executor ex, Plan plan, int n, StateModel.Mode mode, String what) {
        RunStats run = ex.lastRun();
        Network net = ex.network();
        Simulation sim = ex.simulation();
        long[] written = new long[Tier.values().length];
        long[] read = new long[Tier.values().length];
        for (int i = 0; i < plan.size(); i++) {
            if (plan.op(i) == Plan.Op.WRITE) {
                written[plan.tier(i).ordinal()] += StateModel.copyBytes(StateModel.floats(net.layer(plan.layer(i)), n), mode);
            } else if (plan.op(i) == Plan.Op.READ) {
                read[sim.tierOf(i).ordinal()] += StateModel.copyBytes(StateModel.floats(net.layer(plan.layer(i)), n), mode);
            }
        }
        for (Tier t : Tier.values()) {
            assertEquals(written[t.ordinal()], run.bytesWritten(t), what + ": bytes written to " + t);
            assertEquals(read[t.ordinal()], run.bytesRead(t), what + ": bytes read from " + t);
            assertEquals(plan.stats().peakCopies(t), run.peakCopies(t), what + ": peak copies in " + t);
            if (n == ex.batchSize()) {
                assertEquals(sim.tierPeakBytes(t), run.peakBytes(t), what + ": peak bytes in " + t);
            }
        }
        assertEquals(plan.stats().forwardEvaluations(), run.forwardEvaluations(), what);
        assertEquals(plan.stats().peakLiveBuffers(), run.peakLiveBuffers(), what);
    }

    private void assertNoSpillLeft() throws IOException {
        try (Stream<Path> s = Files.list(spill)) {
            assertEquals(List.of(), s.toList(), "left in the spill directory");
        }
    }

    static Gradients poisoned(Network net) {
        Gradients g = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            java.util.Arrays.fill(g.weights(l), Float.NaN);
            java.util.Arrays.fill(g.bias(l), Float.NaN);
        }
        return g;
    }

    static void assertSameBits(Gradients expected, Gradients got, Network net, String what) {
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(PlanEquivalenceTest.bits(expected.weights(l)), PlanEquivalenceTest.bits(got.weights(l)),
                    what + ": dW^" + l);
            assertArrayEquals(PlanEquivalenceTest.bits(expected.bias(l)), PlanEquivalenceTest.bits(got.bias(l)),
                    what + ": db^" + l);
        }
    }
}
