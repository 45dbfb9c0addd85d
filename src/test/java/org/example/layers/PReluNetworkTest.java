package org.example.layers;

import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.memory.ArrayLayout;
import dev.checkprop.memory.MemoryModel;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.DropoutLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Layer;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.nn.StateModel;
import dev.checkprop.plan.Chain;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.TestNets;
import dev.checkprop.select.PlanSelection;
import dev.checkprop.train.LearningRate;
import dev.checkprop.train.Sgd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network with the user-written {@link PReluLayer} among dense, LayerNorm and dropout layers runs
 * under every planner, unchanged executor: it trains, with gradients bit-identical to full storage
 * at every step; its gradient agrees with central differences; its curvature products are the same
 * bits under every plan and behave as H and G must.
 */
class PReluNetworkTest {

    /** dense 8 -> 12 (identity) -> PReLU -> LayerNorm -> dropout 0.1 -> dense 12 -> 10 (tanh) -> PReLU -> dense 10 -> 3. */
    static Network net(long seed) {
        Network dense = Network.builder(8).dense(12, Activation.IDENTITY).dense(10, Activation.TANH)
                .dense(3, Activation.IDENTITY).build(seed);
        List<Layer> layers = List.of(dense.layer(1), PReluLayer.withSlope(12, 0.25f), TestNets.layerNorm(12, seed, 1e-5f),
                new DropoutLayer(12, 0.1f, seed), dense.layer(2), PReluLayer.withSlope(10, 0.25f), dense.layer(3));
        return TestNets.withRandomBias(new Network(layers), seed + 1);
    }

    /** A learnable task: labels are the argmax of a fixed random linear map of the inputs. */
    static Batch teacher(int n, long seed) {
        float[] x = TestNets.uniform(n * 8, seed, 1, 1f);
        float[] w = TestNets.uniform(3 * 8, seed, 2, 1f);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            float best = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < 3; c++) {
                float z = 0f;
                for (int k = 0; k < 8; k++) {
                    z += w[c * 8 + k] * x[i * 8 + k];
                }
                if (z > best) {
                    best = z;
                    labels[i] = c;
                }
            }
        }
        return Batch.classification(x, 8, labels);
    }

    /** Every planner, and a budget plan a third of the way from the smallest feasible budget to full storage. */
    static List<Plan> plans(Network net, int batch, StateModel.Mode mode) {
        List<Plan> plans = new ArrayList<>();
        for (String spec : new String[] {"full", "uniform:1", "uniform:3", "sqrt", "binomial:1", "binomial:3", "optimal:2", "optimal:4"}) {
            plans.add(Planners.parse(spec).plan(net.depth()));
        }
        ArrayLayout layout = ArrayLayout.current();
        Chain chain = MemoryModel.chain(net, batch, mode, layout);
        Plan budget = PlanSelection.budgetPlan(net, batch, chain.minBudget() + (chain.totalBytes() - chain.minBudget()) / 3, mode, layout);
        assertTrue(budget.stats().forwardEvaluations() > net.depth(), budget.name() + " recomputes nothing");
        plans.add(budget);
        return plans;
    }

    /**
     * 50 SGD steps (lr 0.2, batch 32, dropout's masks drawn per step) under each plan on two threads
     * with the JVM's kernels, in lockstep with full storage on one thread with the scalar kernels: the
     * same loss and gradient bits at every step, so the same parameters at the end; and the loss falls.
     */
    @Test
    void trainsUnderEveryPlannerWithTheGradientsOfFullStorageAtEveryStep() {
        Batch data = teacher(32, 3);
        for (Plan plan : plans(net(91), 32, StateModel.Mode.GRADIENT)) {
            Network reference = net(91);
            Network trained = net(91);
            Sgd refSgd = new Sgd(reference, LearningRate.constant(0.2));
            Sgd sgd = new Sgd(trained, LearningRate.constant(0.2));
            Gradients gRef = Gradients.zerosLike(reference);
            Gradients g = Gradients.zerosLike(trained);
            double first = 0;
            double last = 0;
            try (Executor full = new Executor(reference, Planners.parse("full").plan(reference.depth()), 32, Kernels.scalar(), 1);
                 Executor ex = new Executor(trained, plan, 32, Kernels.get(), 2)) {
                for (int step = 0; step < 50; step++) {
                    full.setStep(step);
                    ex.setStep(step);
                    double lossRef = full.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, gRef);
                    double loss = ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
                    assertEquals(Double.doubleToRawLongBits(lossRef), Double.doubleToRawLongBits(loss), plan.name() + ", step " + step + ": loss");
                    assertTrue(gRef.bitEquals(g), plan.name() + ", step " + step + ": gradients differ from full storage");
                    refSgd.step(gRef, step);
                    sgd.step(g, step);
                    first = step == 0 ? loss : first;
                    last = loss;
                }
            }
            for (int l = 1; l <= trained.depth(); l++) {
                assertTrue(java.util.Arrays.equals(reference.layer(l).weights(), trained.layer(l).weights()), plan.name() + ": layer " + l);
            }
            assertTrue(last < 0.7 * first, plan.name() + ": loss went from " + first + " to " + last + " in 50 steps");
            // The slopes were trained too.
            assertTrue(trained.layer(2).weights()[0] != 0.25f && trained.layer(6).weights()[0] != 0.25f, "slopes unchanged");
        }
    }

    /**
     * Central differences of the float loss through the executor, with GradientCorrectnessTest's bound
     * for dense layers (3e-3 of the layer's largest gradient plus 3e-4): every slope, every &gamma; and
     * &beta;, every third dense weight. With h = 3e-3 rather than its 1e-2: the loss has kinks where a
     * PReLU input crosses 0, and a perturbation of 1e-2 crosses one (measured for W<sup>1</sup>[18]:
     * differences 0.0234 at h = 1e-2, 0.02032 at 3e-3, 1e-3 and 3e-4, against the gradient's
     * 0.02032). The float loss's rounding, ~1e-7, divided by 2h is 2e-5, still well below the bound.
     */
    @Test
    void gradientsAgreeWithCentralDifferences() {
        Network net = net(92);
        Batch data = teacher(9, 4);
        try (Executor ex = new Executor(net, Planners.parse("sqrt").plan(net.depth()), data.size())) {
            ex.setStep(2);
            Gradients g = Gradients.zerosLike(net);
            ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
            Gradients scratch = Gradients.zerosLike(net);
            final float h = 3e-3f;
            int checked = 0;
            for (int l = 1; l <= net.depth(); l++) {
                boolean ours = net.layer(l) instanceof PReluLayer || net.layer(l) instanceof LayerNormLayer;
                for (int part = 0; part < 2; part++) {
                    float[] p = part == 0 ? net.layer(l).weights() : net.layer(l).bias();
                    float[] gp = part == 0 ? g.weights(l) : g.bias(l);
                    double scale = 0;
                    for (float v : gp) {
                        scale = Math.max(scale, Math.abs(v));
                    }
                    for (int j = 0; j < p.length; j += ours ? 1 : 3) {
                        float keep = p[j];
                        p[j] = keep + h;
                        double up = ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, scratch);
                        p[j] = keep - h;
                        double down = ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, scratch);
                        p[j] = keep;
                        double fd = (up - down) / ((double) (keep + h) - (double) (keep - h));
                        assertEquals(fd, gp[j], 3e-3 * scale + 3e-4, "layer " + l + " (" + net.layer(l).describe() + ") part "
                                + part + "[" + j + "]");
                        checked++;
                    }
                }
                if (net.layer(l) instanceof PReluLayer) {
                    double norm = 0;
                    for (float v : g.weights(l)) {
                        norm += v * v;
                    }
                    assertTrue(norm > 1e-6, "layer " + l + "'s slope gradient is nearly zero: the test would prove little");
                }
            }
            assertTrue(checked > 100, "checked " + checked);
        }
    }

    private static Gradients[] product(Network net, Batch data, Plan plan, DenseKernels k, int threads, Curvature c, Gradients v) {
        Gradients g = Gradients.zerosLike(net);
        Gradients hv = Gradients.zerosLike(net);
        try (Executor ex = Executor.forHessianProducts(net, plan, data.size(), k, threads)) {
            ex.setStep(5);
            ex.hessianVector(data, Loss.SOFTMAX_CROSS_ENTROPY, v, g, hv, c);
        }
        return new Gradients[] {g, hv};
    }

    private static double dot(Gradients a, Gradients b) {
        double s = 0;
        for (int l = 1; l <= a.depth(); l++) {
            for (int j = 0; j < a.weights(l).length; j++) {
                s += (double) a.weights(l)[j] * b.weights(l)[j];
            }
            for (int j = 0; j < a.bias(l).length; j++) {
                s += (double) a.bias(l)[j] * b.bias(l)[j];
            }
        }
        return s;
    }

    /**
     * H&middot;v and G&middot;v through the layer's tangent methods: the same bits under every plan, thread
     * count and kernel path as full storage; H and G symmetric in float (u&middot;Cv = v&middot;Cu to 1e-5 of
     * |u||Cv| + |v||Cu|, the bound LayerNormCurvatureTest uses for its float products); v&middot;Gv &gt; 0.
     */
    @Test
    void curvatureProductsAreTheSameBitsUnderEveryPlanAndSymmetric() {
        Network net = net(93);
        Batch data = teacher(21, 5);
        Gradients u = TestNets.direction(net, 6);
        Gradients v = TestNets.direction(net, 7);
        for (Curvature c : Curvature.values()) {
            Gradients[] full = product(net, data, Planners.parse("full").plan(net.depth()), Kernels.scalar(), 1, c, v);
            for (Plan plan : plans(net, data.size(), StateModel.Mode.CURVATURE)) {
                for (DenseKernels k : new DenseKernels[] {Kernels.get(), Kernels.scalar()}) {
                    for (int threads = 1; threads <= 2; threads++) {
                        Gradients[] got = product(net, data, plan, k, threads, c, v);
                        String what = c.label() + ", " + plan.name() + ", " + k.name() + ", " + threads + " thread(s)";
                        assertTrue(full[0].bitEquals(got[0]), what + ": gradient");
                        assertTrue(full[1].bitEquals(got[1]), what + ": product");
                    }
                }
            }
            Gradients cu = product(net, data, Planners.parse("full").plan(net.depth()), Kernels.get(), 1, c, u)[1];
            double scale = Math.sqrt(dot(u, u) * dot(full[1], full[1])) + Math.sqrt(dot(v, v) * dot(cu, cu));
            double asym = Math.abs(dot(u, full[1]) - dot(v, cu)) / scale;
            assertTrue(asym < 1e-5, c.label() + ": asymmetry " + asym);
            if (c == Curvature.GAUSS_NEWTON) {
                assertTrue(dot(v, full[1]) > 0, "v·Gv = " + dot(v, full[1]));
            }
        }
    }

    /**
     * The layer allocates nothing, and neither does LayerNorm: gradient and curvature steps on one
     * thread with the scalar kernels, measured by the JVM's per-thread allocation counter after a
     * warm-up, in windows of three steps (a late JIT event may allocate in one window, as
     * ExecutorAllocationTest explains; allocation per step would show in every one).
     */
    @Test
    void stepsAllocateNothing() {
        if (!(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean bean)
                || !bean.isThreadAllocatedMemorySupported() || !bean.isThreadAllocatedMemoryEnabled()) {
            Assumptions.abort("this JVM does not count allocated bytes per thread");
            return;
        }
        Network net = net(94);
        Batch data = teacher(37, 6);
        Plan plan = Planners.parse("binomial:2").plan(net.depth());
        Gradients g = Gradients.zerosLike(net);
        Gradients v = TestNets.direction(net, 1);
        Gradients hv = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, plan, data.size(), Kernels.scalar(), 1);
             Executor hex = Executor.forHessianProducts(net, plan, data.size(), Kernels.scalar(), 1)) {
            Runnable steps = () -> {
                for (int s = 0; s < 3; s++) {
                    ex.setStep(s);
                    ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
                    hex.hessianVector(data, Loss.SOFTMAX_CROSS_ENTROPY, v, null, hv, Curvature.HESSIAN);
                }
            };
            for (int warm = 0; warm < 30; warm++) {
                steps.run();
            }
            List<Long> windows = new ArrayList<>();
            for (int w = 0; w < 5; w++) {
                long before = bean.getCurrentThreadAllocatedBytes();
                steps.run();
                long bytes = bean.getCurrentThreadAllocatedBytes() - before;
                windows.add(bytes);
                if (bytes == 0) {
                    break;
                }
            }
            assertEquals(0L, windows.get(windows.size() - 1).longValue(), "bytes allocated per window of 3 steps: " + windows);
        }
    }
}
