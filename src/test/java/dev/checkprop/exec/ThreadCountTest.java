package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.nn.Curvature;
import dev.checkprop.kernel.DenseKernels;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Plan;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Gradients do not depend on the number of threads, nor on the kernel path: the decomposition
 * never changes the chain of operations behind one output element.
 */
class ThreadCountTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 5, 16, 37, 70})
    void bitIdenticalForEveryThreadCountAndKernelPath(int batch) {
        Network net = TestNets.withRandomBias(Network.builder(19).dense(4, 33, Activation.TANH)
                .dense(2, 50, Activation.RELU).dense(17, Activation.SIGMOID).dense(7, Activation.IDENTITY).build(4), 1);
        Batch data = TestNets.classification(net, batch, 12);
        Plan plan = Planners.parse("binomial:3").plan(net.depth());
        Gradients reference = Gradients.zerosLike(net);
        double refLoss;
        try (Executor ex = new Executor(net, plan, batch, Kernels.scalar(), 1)) {
            refLoss = ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, reference);
        }
        DenseKernels[] paths = Kernels.vector().isPresent()
                ? new DenseKernels[] {Kernels.scalar(), Kernels.vector().get()} : new DenseKernels[] {Kernels.scalar()};
        for (DenseKernels k : paths) {
            for (int threads = 1; threads <= 4; threads++) {
                Gradients g = Gradients.zerosLike(net);
                try (Executor ex = new Executor(net, plan, batch, k, threads)) {
                    // Twice: the second run reuses the pools and workers, as training does.
                    ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
                    double loss = ex.gradient(data, Loss.SOFTMAX_CROSS_ENTROPY, g);
                    assertEquals(Double.doubleToRawLongBits(refLoss), Double.doubleToRawLongBits(loss));
                }
                for (int l = 1; l <= net.depth(); l++) {
                    String what = k.name() + ", " + threads + " threads, layer " + l;
                    assertArrayEquals(PlanEquivalenceTest.bits(reference.weights(l)), PlanEquivalenceTest.bits(g.weights(l)), what);
                    assertArrayEquals(PlanEquivalenceTest.bits(reference.bias(l)), PlanEquivalenceTest.bits(g.bias(l)), what);
                }
            }
        }
    }

    /**
     * The same for a network that takes every path of the backward job: residual blocks (branch
     * recomputed, skip added to the input gradient), dropout (mask replayed), dense layers below a
     * dense, a residual and a dropout layer (the f' fused into the layer above, or not), widths
     * that are not multiples of the row chunk — and for Hessian and Gauss-Newton vector products,
     * which take the unfused path.
     */
    @ParameterizedTest
    @ValueSource(ints = {3, 64, 70})
    void mixedNetworkAndCurvatureProductsAreBitIdenticalForEveryThreadCount(int batch) {
        Network net = TestNets.withRandomBias(Network.builder(11).dense(53, Activation.TANH).residual(3, Activation.TANH)
                .dense(30, Activation.SIGMOID).dropout(0.25f).dense(30, Activation.RELU).residual(2, Activation.RELU)
                .dense(26, Activation.TANH).dense(5, Activation.IDENTITY).build(8), 2);
        Batch data = TestNets.regression(net, batch, 13);
        Plan plan = Planners.parse("binomial:4").plan(net.depth());
        Gradients v = Gradients.zerosLike(net);
        for (int l = 1; l <= net.depth(); l++) {
            float[] w = TestNets.uniform(v.weights(l).length, 21, l, 0.5f);
            System.arraycopy(w, 0, v.weights(l), 0, w.length);
            float[] b = TestNets.uniform(v.bias(l).length, 22, l, 0.5f);
            System.arraycopy(b, 0, v.bias(l), 0, b.length);
        }
        Gradients refGradient = null;
        Gradients[] refProducts = new Gradients[Curvature.values().length];
        DenseKernels[] paths = Kernels.vector().isPresent()
                ? new DenseKernels[] {Kernels.scalar(), Kernels.vector().get()} : new DenseKernels[] {Kernels.scalar()};
        for (DenseKernels k : paths) {
            for (int threads = 1; threads <= 4; threads++) {
                String what = k.name() + ", " + threads + " threads";
                Gradients g = Gradients.zerosLike(net);
                try (Executor ex = new Executor(net, plan, batch, k, threads)) {
                    ex.setStep(3);
                    ex.gradient(data, Loss.MSE, g);
                }
                if (refGradient == null) {
                    refGradient = g;
                } else {
                    assertSameBits(refGradient, g, net, "gradient, " + what);
                }
                for (Curvature c : Curvature.values()) {
                    Gradients product = Gradients.zerosLike(net);
                    Gradients alongside = Gradients.zerosLike(net);
                    try (Executor ex = Executor.forHessianProducts(net, plan, batch, k, threads)) {
                        ex.setStep(3);
                        ex.hessianVector(data, Loss.MSE, v, alongside, product, c);
                    }
                    // The gradient an R run computes alongside is the plain run's, bit for bit.
                    assertSameBits(refGradient, alongside, net, c + " run's gradient, " + what);
                    if (refProducts[c.ordinal()] == null) {
                        refProducts[c.ordinal()] = product;
                    } else {
                        assertSameBits(refProducts[c.ordinal()], product, net, c + " product, " + what);
                    }
                }
            }
        }
    }

    private static void assertSameBits(Gradients expected, Gradients actual, Network net, String what) {
        for (int l = 1; l <= net.depth(); l++) {
            assertArrayEquals(PlanEquivalenceTest.bits(expected.weights(l)), PlanEquivalenceTest.bits(actual.weights(l)),
                    what + ", layer " + l + " weights");
            assertArrayEquals(PlanEquivalenceTest.bits(expected.bias(l)), PlanEquivalenceTest.bits(actual.bias(l)),
                    what + ", layer " + l + " bias");
        }
    }
}
