package dev.checkprop.train;

import dev.checkprop.data.Dataset;
import dev.checkprop.data.Synthetic;
import dev.checkprop.exec.Executor;
import dev.checkprop.hvp.Directions;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HessianFreeTest {

    /** The teacher task of the comparison: 512 samples, 8 inputs, 2 outputs, a 3-layer tanh teacher. */
    private static Batch teacherBatch() {
        Dataset ds = Synthetic.teacher(512, 8, 2, 16, 3, 1);
        return ds.toBatch();
    }

    /** The student: 8 -> 32 tanh -> 32 tanh -> 2, 1,410 parameters. */
    private static Network student() {
        return Network.builder(8).dense(2, 32, Activation.TANH).dense(2, Activation.IDENTITY).build(2);
    }

    private static Plan full(Network net) {
        return Planners.parse("full").plan(net.depth());
    }

    /**
     * On a full-batch regression task, hessian-free (default settings) reaches a lower loss than Adam
     * at its best of five learning rates, with the same number of gradient evaluations E = 1000.
     * What is counted: for Adam, one executor gradient pass per step (1000 steps); for hessian-free,
     * every executor pass — each gradient, each G·p product (which also returns the loss and, when
     * asked, the gradient) and each trial-loss pass, i.e. m + 2 per step for m CG products — and it
     * stops before a step would exceed E. What is measured: the full-batch mse at the final
     * parameters (one extra pass for each, not counted). A product pass costs about twice a gradient
     * pass in flops (six products instead of three), so the test also checks hessian-free against
     * Adam given 2E steps.
     */
    @Test
    void reachesALowerLossThanAdamWithTheSameGradientEvaluations() {
        Batch data = teacherBatch();
        final int budget = 1000;
        double initial;
        try (Executor ex = new Executor(student(), full(student()), data.size())) {
            initial = ex.gradient(data, Loss.MSE, Gradients.zerosLike(student()));
        }
        double bestAdam = Double.POSITIVE_INFINITY;
        double bestAdamDouble = Double.POSITIVE_INFINITY;
        StringBuilder adamLog = new StringBuilder();
        for (double lr : new double[] {1e-3, 3e-3, 1e-2, 3e-2, 1e-1}) {
            Network net = student();
            try (Executor ex = new Executor(net, full(net), data.size())) {
                Adam adam = new Adam(net, LearningRate.constant(lr));
                Gradients g = Gradients.zerosLike(net);
                for (int s = 0; s < 2 * budget; s++) {
                    ex.gradient(data, Loss.MSE, g);
                    adam.step(g, s);
                    if (s + 1 == budget) {
                        double at = ex.gradient(data, Loss.MSE, Gradients.zerosLike(net));
                        bestAdam = Math.min(bestAdam, at);
                        adamLog.append(String.format(java.util.Locale.ROOT, " lr=%g: %.3e", lr, at));
                    }
                }
                double at2 = ex.gradient(data, Loss.MSE, Gradients.zerosLike(net));
                bestAdamDouble = Math.min(bestAdamDouble, at2);
                adamLog.append(String.format(java.util.Locale.ROOT, " (%.3e at 2E)", at2));
            }
        }
        Network net = student();
        double hf;
        int steps = 0;
        long passes;
        try (Executor ex = Executor.forHessianProducts(net, full(net), data.size(), Kernels.get(), 1)) {
            HessianFree opt = new HessianFree(ex, Loss.MSE, HessianFree.Settings.defaults());
            while (opt.passes() + opt.settings().maxCgIterations() + 2 <= budget) {
                HessianFree.StepReport r = opt.step(data, steps++);
                assertEquals(r.cgIterations() + 2, r.passes(), "passes per step");
            }
            passes = opt.passes();
            hf = ex.gradient(data, Loss.MSE, Gradients.zerosLike(net));
        }
        String run = String.format(java.util.Locale.ROOT,
                "teacher mse: initial %.3e; adam after %d steps:%s; hessian-free %s after %d steps, %d passes: %.3e",
                initial, budget, adamLog, HessianFree.Settings.defaults(), steps, passes, hf);
        assertTrue(passes <= budget, run);
        assertTrue(hf < bestAdam, "hessian-free " + hf + " vs best adam " + bestAdam + "; " + run);
        assertTrue(hf < bestAdamDouble, "hessian-free " + hf + " vs best adam with twice the passes " + bestAdamDouble
                + "; " + run);
    }

    /**
     * On a linear least-squares problem G is the Hessian and the model is exact: with tiny damping
     * and as many CG iterations as parameters, one step lands on the minimum (the gradient vanishes
     * to float accuracy) and the model predicts the decrease exactly (&rho; = 1).
     */
    @Test
    void oneStepSolvesALinearLeastSquaresProblem() {
        Network net = Network.builder(4).dense(3, Activation.IDENTITY).build(5);
        Batch data = teacherLike(net, 64);
        try (Executor ex = Executor.forHessianProducts(net, full(net), 64, Kernels.scalar(), 1)) {
            Gradients g = Gradients.zerosLike(net);
            ex.gradient(data, Loss.MSE, g);
            double before = Directions.norm(g);
            HessianFree opt = new HessianFree(ex, Loss.MSE, new HessianFree.Settings(1e-6, 15, 0.95, 1e-6, 1e6));
            HessianFree.StepReport r = opt.step(data, 0);
            assertTrue(r.accepted());
            assertEquals(1.0, r.rho(), 1e-3, "reduction ratio");
            ex.gradient(data, Loss.MSE, g);
            assertTrue(Directions.norm(g) < 1e-4 * before, "gradient norm " + before + " -> " + Directions.norm(g));
            assertTrue(opt.damping() < 1e-6 * 1.01, "damping shrinks (clamped at the floor) after a good step");
        }
    }

    private static Batch teacherLike(Network net, int n) {
        float[] x = new float[n * net.inputWidth()];
        float[] y = new float[n * net.outputWidth()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(0.7 * i + 0.3);
        }
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) Math.cos(1.3 * i);
        }
        return Batch.regression(x, net.inputWidth(), y, net.outputWidth());
    }

    /**
     * Every plan and thread count gives the same training run bit for bit: the products are
     * plan-independent, and so is everything the optimizer does with them. And the Optimizer-contract
     * path (useBatch + step(gradient)) moves the parameters exactly as step(batch) does.
     */
    @Test
    void trainingIsBitIdenticalAcrossPlansThreadsAndEntryPoints() {
        Network base = Network.builder(6).dense(10, Activation.TANH).residual(2, Activation.SIGMOID).dropout(0.2f)
                .dense(4, Activation.IDENTITY).build(9);
        Dataset ds = Synthetic.spirals(48, 0.1, 3);
        Batch data = Batch.classification(widen(ds, 6), 6, labels(ds, 4));
        float[][] reference = null;
        for (String spec : new String[] {"full", "binomial:2", "sqrt", "contract"}) {
            Network net = base.copy();
            boolean contract = spec.equals("contract");
            Plan plan = Planners.parse(contract ? "optimal:3" : spec).plan(net.depth());
            try (Executor ex = Executor.forHessianProducts(net, plan, data.size(), Kernels.get(), contract ? 1 : 2);
                 Executor plain = new Executor(net, plan, data.size())) {
                HessianFree opt = new HessianFree(ex, Loss.SOFTMAX_CROSS_ENTROPY,
                        HessianFree.Settings.defaults().withMaxCgIterations(8).withInitialDamping(0.1));
                Gradients g = Gradients.zerosLike(net);
                for (int s = 0; s < 6; s++) {
                    if (contract) {
                        plain.setStep(s);
                        plain.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
                        opt.useBatch(data);
                        opt.step(g, s);
                    } else {
                        opt.step(data, s);
                    }
                }
            }
            float[][] now = new float[2 * net.depth()][];
            for (int l = 1; l <= net.depth(); l++) {
                now[2 * l - 2] = net.layer(l).weights();
                now[2 * l - 1] = net.layer(l).bias();
            }
            if (reference == null) {
                reference = now;
                assertTrue(!java.util.Arrays.equals(reference[0], base.layer(1).weights()), "training moved the weights");
            } else {
                for (int t = 0; t < now.length; t++) {
                    assertArrayEquals(reference[t], now[t], spec + ": tensor " + t);
                }
            }
        }
    }

    private static float[] widen(Dataset ds, int width) {
        float[] x = new float[ds.size() * width];
        for (int i = 0; i < ds.size(); i++) {
            for (int k = 0; k < width; k++) {
                x[i * width + k] = ds.input(i, k % ds.inputWidth()) * (1 + k / ds.inputWidth());
            }
        }
        return x;
    }

    private static int[] labels(Dataset ds, int classes) {
        int[] y = new int[ds.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = ds.label(i) % classes;
        }
        return y;
    }

    @Test
    void misuseIsReported() {
        Network net = student();
        try (Executor plain = new Executor(net, full(net), 4)) {
            assertThrows(IllegalArgumentException.class, () -> new HessianFree(plain, Loss.MSE, HessianFree.Settings.defaults()));
        }
        try (Executor ex = Executor.forHessianProducts(net, full(net), 4, Kernels.get(), 1)) {
            HessianFree opt = new HessianFree(ex, Loss.MSE, HessianFree.Settings.defaults());
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> opt.step(Gradients.zerosLike(net), 0));
            assertTrue(e.getMessage().contains("useBatch"), e.getMessage());
            assertEquals("hessian-free", opt.name());
            assertEquals(7L * 4 * net.parameterCount(), opt.stateBytes());
            assertEquals(opt.stateBytes(), opt.stateArrays().stream().mapToLong(a -> 4L * a.length).sum());
        }
        assertThrows(IllegalArgumentException.class, () -> new HessianFree.Settings(0, 10, 0.9, 1e-6, 1));
        assertThrows(IllegalArgumentException.class, () -> new HessianFree.Settings(1, 0, 0.9, 1e-6, 1));
        assertThrows(IllegalArgumentException.class, () -> new HessianFree.Settings(1, 10, 1.5, 1e-6, 1));
        assertThrows(IllegalArgumentException.class, () -> new HessianFree.Settings(1, 10, 0.9, 1, 1e-6));
    }
}
