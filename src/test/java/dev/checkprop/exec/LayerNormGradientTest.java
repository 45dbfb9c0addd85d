package dev.checkprop.exec;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.FullStoragePlanner;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * LayerNorm's gradients (&gamma; as the layer's weights, &beta; as its bias) and the gradients through it
 * to the dense and residual layers below, on dense &rarr; residual &rarr; LayerNorm &rarr; dropout &rarr; dense
 * &rarr; LayerNorm &rarr; dense networks, against the same two witnesses and with the same bounds as
 * {@link GradientCorrectnessTest} (whose notes derive them): the double reference against central
 * differences of its own loss (h = 1e-5; 1e-7 of the layer's largest entry plus 1e-9), the float
 * gradients against the double reference (1e-4 of the layer's largest entry), and against central
 * differences of the float loss (h = 1e-2; 3e-3 of the largest plus 3e-4). LayerNorm adds a few
 * operations per element and one division by &radic;(&sigma;&sup2; + &epsilon;) of O(1) inputs, so the
 * float-vs-double estimate of that note holds (measured: 4e-7 to 9e-7 of the largest entry, against 1e-4).
 */
class LayerNormGradientTest {

    /** Step 5: dropout's masks are fixed for the step, so the loss is a smooth function of the parameters. */
    private static final long STEP = 5;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Activation.TANH, Activation.SIGMOID, Loss.MSE),
                Arguments.of(Activation.TANH, Activation.SIGMOID, Loss.SOFTMAX_CROSS_ENTROPY),
                Arguments.of(Activation.RELU, Activation.TANH, Loss.MSE),
                Arguments.of(Activation.SIGMOID, Activation.RELU, Loss.SOFTMAX_CROSS_ENTROPY),
                // GELU: f' from z, kept as tape by the dense layers and copied from the recomputed branch by the residual ones.
                Arguments.of(Activation.GELU, Activation.GELU, Loss.MSE),
                Arguments.of(Activation.GELU, Activation.TANH, Loss.SOFTMAX_CROSS_ENTROPY));
    }

    /** Widths 7 -> 10 -> 10 -> 10 -> 10 -> 16 -> 16 -> 8; different widths so that a transposed index shows. */
    private static Network net(Activation f, Activation g) {
        return TestNets.layerNormMixed(7, 10, 16, 8, f, g, Activation.IDENTITY, 0.3f, 31 + f.ordinal() * 4L + g.ordinal());
    }

    private static Batch batch(Network net, Loss loss) {
        return TestNets.batch(net, loss, 9, 3);
    }

    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("cases")
    void referenceAgreesWithCentralFiniteDifferences(Activation f, Activation g, Loss loss) {
        Network net = net(f, g);
        assertLayerNorms(net);
        Batch data = batch(net, loss);
        DoubleReference ref = new DoubleReference(net);
        ref.step = STEP;
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        ref.lossAndGradients(data, loss, gw, gb);
        final double h = 1e-5;
        for (int l = 1; l <= net.depth(); l++) {
            for (int part = 0; part < 2; part++) {
                double[] p = part == 0 ? ref.w[l] : ref.b[l];
                double[] grad = part == 0 ? gw[l] : gb[l];
                double scale = GradientCorrectnessTest.maxAbs(grad);
                for (int j = 0; j < p.length; j++) {
                    double keep = p[j];
                    p[j] = keep + h;
                    double up = ref.lossAndGradients(data, loss, null, null);
                    p[j] = keep - h;
                    double down = ref.lossAndGradients(data, loss, null, null);
                    p[j] = keep;
                    assertEquals((up - down) / (2 * h), grad[j], 1e-7 * scale + 1e-9, name(net, l, part) + "[" + j + "]");
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("cases")
    void floatGradientsMatchTheDoubleReference(Activation f, Activation g, Loss loss) {
        Network net = net(f, g);
        assertMatchesReference(net, batch(net, loss), loss);
    }

    /** LayerNorm first (R{a^0} and no gradient below), twice in a row, after dropout, and last. */
    @ParameterizedTest
    // The losses DoubleReference implements (mse-mean is mse scaled, MseMeanLossTest).
    @org.junit.jupiter.params.provider.EnumSource(value = Loss.class, names = {"MSE", "SOFTMAX_CROSS_ENTROPY"})
    void layerNormAtTheEdgesMatchesTheDoubleReference(Loss loss) {
        Network net = TestNets.layerNormEdges(41);
        assertTrue(net.layer(1) instanceof LayerNormLayer && net.layer(net.depth()) instanceof LayerNormLayer, net.toString());
        assertMatchesReference(net, TestNets.batch(net, loss, 6, 4), loss);
    }

    private static void assertMatchesReference(Network net, Batch data, Loss loss) {
        DoubleReference ref = new DoubleReference(net);
        ref.step = STEP;
        double[][] gw = new double[net.depth() + 1][];
        double[][] gb = new double[net.depth() + 1][];
        double refLoss = ref.lossAndGradients(data, loss, gw, gb);
        try (Executor ex = new Executor(net, new FullStoragePlanner().plan(net.depth()), data.size())) {
            ex.setStep(STEP);
            Gradients got = Gradients.zerosLike(net);
            double gotLoss = ex.gradient(data, loss, got);
            assertEquals(refLoss, gotLoss, 1e-5 * Math.max(1, Math.abs(refLoss)), "loss");
            for (int l = 1; l <= net.depth(); l++) {
                if (net.layer(l).hasParameters()) {
                    assertClose(gw[l], got.weights(l), name(net, l, 0));
                    assertClose(gb[l], got.bias(l), name(net, l, 1));
                }
            }
        }
    }

    static Stream<Arguments> smoothCases() {
        return cases().filter(a -> a.get()[0] != Activation.RELU && a.get()[1] != Activation.RELU);
    }

    /** As GradientCorrectnessTest's check of the float loss: every &gamma; and &beta;, every third weight of the other layers. */
    @ParameterizedTest(name = "{0}/{1}/{2}")
    @MethodSource("smoothCases")
    void floatGradientsMatchFiniteDifferencesOfTheFloatLoss(Activation f, Activation g, Loss loss) {
        Network net = net(f, g);
        Batch data = batch(net, loss);
        try (Executor ex = new Executor(net, new FullStoragePlanner().plan(net.depth()), data.size())) {
            ex.setStep(STEP);
            Gradients grad = Gradients.zerosLike(net);
            ex.gradient(data, loss, grad);
            Gradients scratch = Gradients.zerosLike(net);
            final float h = 1e-2f;
            for (int l = 1; l <= net.depth(); l++) {
                boolean norm = net.layer(l) instanceof LayerNormLayer;
                for (int part = 0; part < 2; part++) {
                    float[] p = part == 0 ? net.layer(l).weights() : net.layer(l).bias();
                    float[] gp = part == 0 ? grad.weights(l) : grad.bias(l);
                    double scale = GradientCorrectnessTest.maxAbs(DoubleReference.toDouble(gp));
                    for (int j = 0; j < p.length; j += norm ? 1 : 3) {
                        float keep = p[j];
                        p[j] = keep + h;
                        double up = ex.gradient(data, loss, scratch);
                        p[j] = keep - h;
                        double down = ex.gradient(data, loss, scratch);
                        p[j] = keep;
                        double fd = (up - down) / ((double) (keep + h) - (double) (keep - h));
                        assertEquals(fd, gp[j], 3e-3 * scale + 3e-4, name(net, l, part) + "[" + j + "]");
                    }
                }
            }
        }
    }

    private static void assertLayerNorms(Network net) {
        assertTrue(net.layer(3) instanceof LayerNormLayer && net.layer(6) instanceof LayerNormLayer, net.toString());
        assertEquals(7, net.depth(), net.toString());
    }

    private static String name(Network net, int l, int part) {
        boolean norm = net.layer(l) instanceof LayerNormLayer;
        return "dL/d" + (norm ? (part == 0 ? "gamma^" : "beta^") : (part == 0 ? "W^" : "b^")) + l;
    }

    private static void assertClose(double[] expected, float[] actual, String what) {
        double scale = GradientCorrectnessTest.maxAbs(expected);
        assertTrue(scale > 0, what + " is identically zero: the test would prove nothing");
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 1e-4 * scale, what + "[" + j + "]");
        }
    }
}
