package dev.checkprop.exec;

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
}
