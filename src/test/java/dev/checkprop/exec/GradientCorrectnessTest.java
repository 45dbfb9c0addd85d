package dev.checkprop.exec;

import dev.checkprop.reference.TestNets;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.FullStoragePlanner;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor's float gradients against two independent witnesses: a plain double-precision
 * implementation of the derivation ({@link DoubleReference}), itself checked against central
 * finite differences in double.
 *
 * <p>Bounds. (1) Reference vs finite differences: with h = 1e-5 in double, truncation error is
 * O(h&sup2;|c'''|) ~ 1e-10 and rounding error ~ 1e-16/h ~ 1e-11 relative to O(1) losses, so 1e-7
 * (relative to the largest gradient of the layer, plus 1e-9 absolute) leaves a wide margin while still
 * failing on any wrong term. (2) Float vs double: each float dot product of length n carries a
 * relative error of at most about n&middot;2<sup>-24</sup> (Higham, Accuracy and Stability, &sect;3.1),
 * the activations a few ulp more; through L &le; 5 layers of width &le; 12 that is below
 * 5&middot;(12+4)&middot;6e-8 &asymp; 5e-6 of the magnitudes involved, the gradients a similar amount
 * again. The test asserts 1e-4 of each layer's largest gradient: ten times that estimate, and five
 * orders of magnitude below the size of a real mistake (a missing term or a wrong f').
 */
class GradientCorrectnessTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Activation.TANH, Activation.IDENTITY, Loss.MSE),
                Arguments.of(Activation.TANH, Activation.TANH, Loss.MSE),
                Arguments.of(Activation.SIGMOID, Activation.SIGMOID, Loss.MSE),
                Arguments.of(Activation.RELU, Activation.IDENTITY, Loss.MSE),
                Arguments.of(Activation.IDENTITY, Activation.IDENTITY, Loss.MSE),
                Arguments.of(Activation.TANH, Activation.IDENTITY, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.SIGMOID, Activation.IDENTITY, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.RELU, Activation.IDENTITY, Loss.SOFTMAX_CROSS_ENTROPY));
    }

    private static Network net(Activation hidden, Activation out) {
        // Widths differ from layer to layer so that a transposed index would be caught.
        Network net = Network.builder(5).dense(7, hidden).dense(12, hidden).dense(6, hidden).dense(4, out).build(11);
        return TestNets.withRandomBias(net, 5);
    }

    /** Dense, residual and dropout layers together (dropout masks fixed by the step, so differences are valid). */
    private static Network residualNet(Activation f) {
        Network net = Network.builder(5).dense(8, f).residual(2, f).dropout(0.3f).residual(1, f)
                .dropout(0.5f).dense(4, Activation.IDENTITY).build(21);
        return TestNets.withRandomBias(net, 6);
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(value = Activation.class, names = {"TANH", "SIGMOID", "RELU"})
    void residualAndDropoutAgreeWithTheReferenceAndFiniteDifferences(Activation f) {
        Network net = residualNet(f);
        Batch data = TestNets.regression(net, 9, 3);
        DoubleReference ref = new DoubleReference(net);
        ref.step = 5;
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        ref.lossAndGradients(data, Loss.MSE, gw, gb);
        final double h = 1e-5;
        for (int l = 1; l <= net.depth(); l++) {
            if (!net.layer(l).hasParameters()) {
                continue;
            }
            for (int j = 0; j < ref.w[l].length; j += 2) {
                double keep = ref.w[l][j];
                ref.w[l][j] = keep + h;
                double up = ref.lossAndGradients(data, Loss.MSE, null, null);
                ref.w[l][j] = keep - h;
                double down = ref.lossAndGradients(data, Loss.MSE, null, null);
                ref.w[l][j] = keep;
                assertEquals((up - down) / (2 * h), gw[l][j], 1e-7 * maxAbs(gw[l]) + 1e-9, "dL/dW^" + l + "[" + j + "]");
            }
        }
        try (Executor ex = new Executor(net, new FullStoragePlanner().plan(net.depth()), data.size())) {
            ex.setStep(5);
            Gradients g = Gradients.zerosLike(net);
            ex.gradient(data, Loss.MSE, g);
            for (int l = 1; l <= net.depth(); l++) {
                if (net.layer(l).hasParameters()) {
                    assertClose(gw[l], g.weights(l), "dL/dW^" + l);
                    assertClose(gb[l], g.bias(l), "dL/db^" + l);
                }
            }
            assertEquals(3, ex.lastRun().backwardRecomputations(), "one branch recomputation per residual block");
        }
    }

    private static Batch batch(Network net, Loss loss) {
        return loss == Loss.MSE ? TestNets.regression(net, 9, 3) : TestNets.classification(net, 9, 3);
    }

    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("cases")
    void referenceAgreesWithCentralFiniteDifferences(Activation hidden, Activation out, Loss loss) {
        Network net = net(hidden, out);
        Batch data = batch(net, loss);
        DoubleReference ref = new DoubleReference(net);
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        ref.lossAndGradients(data, loss, gw, gb);
        final double h = 1e-5;
        for (int l = 1; l <= net.depth(); l++) {
            double scale = maxAbs(gw[l]);
            for (int j = 0; j < ref.w[l].length; j++) {
                double keep = ref.w[l][j];
                ref.w[l][j] = keep + h;
                double up = ref.lossAndGradients(data, loss, null, null);
                ref.w[l][j] = keep - h;
                double down = ref.lossAndGradients(data, loss, null, null);
                ref.w[l][j] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, gw[l][j], 1e-7 * scale + 1e-9, "dL/dW^" + l + "[" + j + "]");
            }
            for (int j = 0; j < ref.b[l].length; j++) {
                double keep = ref.b[l][j];
                ref.b[l][j] = keep + h;
                double up = ref.lossAndGradients(data, loss, null, null);
                ref.b[l][j] = keep - h;
                double down = ref.lossAndGradients(data, loss, null, null);
                ref.b[l][j] = keep;
                assertEquals((up - down) / (2 * h), gb[l][j], 1e-7 * maxAbs(gb[l]) + 1e-9, "dL/db^" + l + "[" + j + "]");
            }
        }
    }

    /**
     * Central differences of the float network itself, through the executor. With h = 1e-2 the
     * truncation error is about h&sup2;|c'''|/6 &le; 1e-4 and the float loss is accurate to ~1e-6,
     * i.e. 1e-4 after dividing by 2h; so 3e-3 of the layer's largest gradient plus 3e-4 absolute.
     */
    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("smoothCases")
    void floatGradientsMatchFiniteDifferencesOfTheFloatLoss(Activation hidden, Activation out, Loss loss) {
        Network net = net(hidden, out);
        Batch data = batch(net, loss);
        Executor ex = new Executor(net, new FullStoragePlanner().plan(net.depth()), data.size());
        Gradients g = Gradients.zerosLike(net);
        ex.gradient(data, loss, g);
        Gradients scratch = Gradients.zerosLike(net);
        final float h = 1e-2f;
        for (int l = 1; l <= net.depth(); l++) {
            float[] w = net.layer(l).weights();
            double scale = maxAbs(DoubleReference.toDouble(g.weights(l)));
            for (int j = 0; j < w.length; j += 3) {
                float keep = w[j];
                w[j] = keep + h;
                double up = ex.gradient(data, loss, scratch);
                w[j] = keep - h;
                double down = ex.gradient(data, loss, scratch);
                w[j] = keep;
                double fd = (up - down) / ((double) (keep + h) - (double) (keep - h));
                assertEquals(fd, g.weights(l)[j], 3e-3 * scale + 3e-4, "dL/dW^" + l + "[" + j + "]");
            }
        }
    }

    static Stream<Arguments> smoothCases() {
        return cases().filter(a -> a.get()[0] != Activation.RELU);
    }

    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("cases")
    void floatGradientsMatchTheDoubleReference(Activation hidden, Activation out, Loss loss) {
        Network net = net(hidden, out);
        Batch data = batch(net, loss);
        DoubleReference ref = new DoubleReference(net);
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        double refLoss = ref.lossAndGradients(data, loss, gw, gb);

        Executor ex = new Executor(net, new FullStoragePlanner().plan(net.depth()), data.size());
        Gradients g = Gradients.zerosLike(net);
        double got = ex.gradient(data, loss, g);
        assertEquals(refLoss, got, 1e-5 * Math.max(1, Math.abs(refLoss)), "loss");
        for (int l = 1; l <= net.depth(); l++) {
            assertClose(gw[l], g.weights(l), "dL/dW^" + l);
            assertClose(gb[l], g.bias(l), "dL/db^" + l);
        }
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        double scale = maxAbs(expected);
        assertTrue(scale > 0, what + " is identically zero: the test would prove nothing");
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 1e-4 * scale, what + "[" + j + "]");
        }
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
