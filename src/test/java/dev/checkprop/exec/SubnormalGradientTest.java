package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.reference.DoubleReference;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.FullStoragePlanner;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;

/**
 * A tanh network whose gradient vanishes through the subnormal range on the way down, as very deep
 * plain networks' do: with subnormals flushed (the default) the gradients still agree with the
 * double-precision reference wherever the reference is a normal float, are bit-identical across
 * plans, thread counts and both kernel paths, and contain no subnormal; strict IEEE mode keeps them.
 */
class SubnormalGradientTest {

    private static final int WIDTH = 8;
    private static final int DEPTH = 80;
    private static final int BATCH = 16;

    /** Weights scaled by 1/4: each layer shrinks the gradient about fourfold, 1e-48 at the bottom. */
    private static Network vanishing() {
        Network net = TestNets.withRandomBias(TestNets.chain(WIDTH, DEPTH, WIDTH, Activation.TANH, WIDTH,
                Activation.IDENTITY, 31), 32);
        for (int l = 1; l <= net.depth(); l++) {
            float[] w = net.layer(l).weights();
            for (int j = 0; j < w.length; j++) {
                w[j] *= 0.25f;
            }
        }
        return net;
    }

    private static Gradients run(Network net, Batch data, Plan plan, DenseKernels k, int threads) {
        try (Executor ex = new Executor(net, plan, BATCH, k, threads)) {
            Gradients g = Gradients.zerosLike(net);
            ex.gradient(data, Loss.MSE, g);
            return g;
        }
    }

    private static int subnormals(Gradients g, Network net) {
        int count = 0;
        for (int l = 1; l <= net.depth(); l++) {
            for (float[] x : new float[][] {g.weights(l), g.bias(l)}) {
                for (float v : x) {
                    if (v != 0 && Math.abs(v) < Float.MIN_NORMAL) {
                        count++;
                    }
                }
            }
        }
        return count;
    }

    @Test
    void flushedGradientsAgreeWithTheReferenceWhereItIsNormal() {
        Network net = vanishing();
        Batch data = TestNets.regression(net, BATCH, 33);
        Plan full = new FullStoragePlanner().plan(net.depth());
        DenseKernels flush = Kernels.get().withSubnormals(true);
        Gradients flushed = run(net, data, full, flush, 1);
        Gradients strict = run(net, data, full, Kernels.get().withSubnormals(false), 1);

        assertTrue(subnormals(strict, net) > 100, "the network does not reach the subnormal range");
        assertEquals(0, subnormals(flushed, net), "subnormal gradients with flushing on");

        DoubleReference ref = new DoubleReference(net);
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        ref.lossAndGradients(data, Loss.MSE, gw, gb);
        int normalLayers = 0;
        int vanishedEntries = 0;
        for (int l = 1; l <= net.depth(); l++) {
            for (int part = 0; part < 2; part++) {
                double[] r = part == 0 ? gw[l] : gb[l];
                float[] got = part == 0 ? flushed.weights(l) : flushed.bias(l);
                double max = 0;
                for (double v : r) {
                    max = Math.max(max, Math.abs(v));
                }
                // Float rounding as in GradientCorrectnessTest (1e-4 of the layer's largest entry),
                // plus what flushing may drop: each gradient entry is a sum over at most
                // WIDTH x BATCH products of flushed terms, each below MIN_NORMAL.
                double tol = 1e-4 * max + 4.0 * WIDTH * BATCH * Float.MIN_NORMAL;
                for (int j = 0; j < r.length; j++) {
                    assertEquals(r[j], got[j], tol, "layer " + l + (part == 0 ? " dW[" : " db[") + j + "]");
                    if (Math.abs(r[j]) < Float.MIN_NORMAL) {
                        vanishedEntries++;
                    }
                }
                if (part == 0 && max >= 1e-30) {
                    normalLayers++;
                }
            }
        }
        assertTrue(normalLayers >= 40, "layers with normal gradients: " + normalLayers);
        assertTrue(vanishedEntries > 100, "entries below MIN_NORMAL in the reference: " + vanishedEntries);
    }

    @Test
    void flushedGradientsAreBitIdenticalAcrossPlansThreadsAndKernelPaths() {
        Network net = vanishing();
        Batch data = TestNets.regression(net, BATCH, 34);
        Plan full = new FullStoragePlanner().plan(net.depth());
        Gradients expected = run(net, data, full, Kernels.scalar().withSubnormals(true), 1);
        for (String plan : new String[] {"full", "sqrt", "binomial:4", "optimal:6"}) {
            Plan p = Planners.parse(plan).plan(net.depth());
            for (DenseKernels k : new DenseKernels[] {Kernels.get().withSubnormals(true),
                                                      Kernels.scalar().withSubnormals(true)}) {
                for (int threads : new int[] {1, 3}) {
                    Gradients g = run(net, data, p, k, threads);
                    for (int l = 1; l <= net.depth(); l++) {
                        String what = plan + ", " + k.name() + ", " + threads + " threads, layer " + l;
                        assertArrayEquals(PlanEquivalenceTest.bits(expected.weights(l)), PlanEquivalenceTest.bits(g.weights(l)), what);
                        assertArrayEquals(PlanEquivalenceTest.bits(expected.bias(l)), PlanEquivalenceTest.bits(g.bias(l)), what);
                    }
                }
            }
        }
    }
}
