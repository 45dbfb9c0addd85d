package dev.checkprop.train;

import dev.checkprop.nn.Activation;
import dev.checkprop.nn.DenseLayer;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Network;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Optimizer updates on a 1-layer network (3 inputs, 2 outputs), checked against hand-computed
 * values and against an independent double-precision reference written out below.
 */
class OptimizerTest {

    private static final float[] W0 = {0.5f, -0.25f, 0.125f, 1.0f, -0.75f, 0.3f};
    private static final float[] B0 = {0.1f, -0.2f};
    private static final int STEPS = 6;

    private static Network tiny() {
        return new Network(List.of(new DenseLayer(3, 2, Activation.IDENTITY, W0.clone(), B0.clone())));
    }

    /** The gradient of step s, flattened as [W (6), b (2)]; weight 2's gradient is always 0. */
    private static double[] gradient(int s) {
        double[] g = new double[8];
        for (int i = 0; i < 6; i++) {
            g[i] = i == 2 ? 0 : 0.1 * (i + 1) * (s % 2 == 0 ? 1 : -0.5) + 0.01 * s;
        }
        for (int o = 0; o < 2; o++) {
            g[6 + o] = 0.3 - 0.2 * o - 0.05 * s;
        }
        return g;
    }

    private static Gradients gradients(Network net, int s) {
        Gradients g = Gradients.zerosLike(net);
        double[] flat = gradient(s);
        for (int i = 0; i < 6; i++) {
            g.weights(1)[i] = (float) flat[i];
        }
        for (int o = 0; o < 2; o++) {
            g.bias(1)[o] = (float) flat[6 + o];
        }
        return g;
    }

    private static double[] initial() {
        double[] p = new double[8];
        for (int i = 0; i < 6; i++) {
            p[i] = W0[i];
        }
        p[6] = B0[0];
        p[7] = B0[1];
        return p;
    }

    private static boolean isWeight(int i) {
        return i < 6;
    }

    // ---- the double-precision references: textbook formulas, one parameter at a time ----

    private static double[] referenceSgd(int steps, double lr, double momentum, double wd) {
        double[] p = initial();
        double[] v = new double[p.length];
        for (int s = 0; s < steps; s++) {
            double[] g = gradient(s);
            for (int i = 0; i < p.length; i++) {
                double gi = g[i] + (isWeight(i) ? wd * p[i] : 0);
                if (momentum == 0) {
                    p[i] -= lr * gi;
                } else {
                    v[i] = momentum * v[i] + gi;
                    p[i] -= lr * v[i];
                }
            }
        }
        return p;
    }

    private static double[] referenceAdam(int steps, double lr, double b1, double b2, double eps, double wd, boolean decoupled) {
        double[] p = initial();
        double[] m = new double[p.length];
        double[] v = new double[p.length];
        for (int s = 0; s < steps; s++) {
            int t = s + 1;
            double[] g = gradient(s);
            for (int i = 0; i < p.length; i++) {
                double gi = g[i];
                if (isWeight(i) && decoupled) {
                    p[i] -= lr * wd * p[i];
                } else if (isWeight(i)) {
                    gi += wd * p[i];
                }
                m[i] = b1 * m[i] + (1 - b1) * gi;
                v[i] = b2 * v[i] + (1 - b2) * gi * gi;
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
        }
        return p;
    }

    private static double[] run(Network net, Optimizer opt, int steps) {
        for (int s = 0; s < steps; s++) {
            opt.step(gradients(net, s), s);
        }
        double[] p = new double[8];
        for (int i = 0; i < 6; i++) {
            p[i] = net.layer(1).weights()[i];
        }
        p[6] = net.layer(1).bias()[0];
        p[7] = net.layer(1).bias()[1];
        return p;
    }

    private static void assertClose(double[] expected, double[] actual) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-6, "parameter " + i);
        }
    }

    // ---- SGD ----

    @Test
    void sgdFirstStepsByHand() {
        Network net = tiny();
        Sgd sgd = new Sgd(net, LearningRate.constant(0.1));
        sgd.step(gradients(net, 0), 0);
        // w0 = 0.5 - 0.1 * 0.1; b1 = -0.2 - 0.1 * 0.1
        assertEquals(0.49f, net.layer(1).weights()[0], 1e-7f);
        assertEquals(0.125f, net.layer(1).weights()[2], 0f, "a zero gradient leaves the weight alone");
        assertEquals(-0.21f, net.layer(1).bias()[1], 1e-7f);
        sgd.step(gradients(net, 1), 1);
        // g = 0.1 * -0.5 + 0.01 = -0.04: w0 = 0.49 + 0.004
        assertEquals(0.494f, net.layer(1).weights()[0], 1e-7f);
    }

    @Test
    void sgdMatchesTheReference() {
        Network net = tiny();
        assertClose(referenceSgd(STEPS, 0.1, 0, 0), run(net, new Sgd(net, LearningRate.constant(0.1)), STEPS));
    }

    @Test
    void sgdMomentumByHandAndAgainstTheReference() {
        Network net = tiny();
        Sgd sgd = new Sgd(net, LearningRate.constant(0.1), 0.9, 0);
        sgd.step(gradients(net, 0), 0);
        assertEquals(0.49f, net.layer(1).weights()[0], 1e-7f, "v = g on the first step");
        sgd.step(gradients(net, 1), 1);
        // v = 0.9 * 0.1 + (-0.04) = 0.05; w0 = 0.49 - 0.1 * 0.05
        assertEquals(0.485f, net.layer(1).weights()[0], 1e-7f);

        Network net2 = tiny();
        assertClose(referenceSgd(STEPS, 0.1, 0.9, 0.05), run(net2, new Sgd(net2, LearningRate.constant(0.1), 0.9, 0.05), STEPS));
    }

    @Test
    void sgdWeightDecayShrinksWeightsButNotBiases() {
        Network net = tiny();
        Sgd sgd = new Sgd(net, LearningRate.constant(0.1), 0, 0.5);
        sgd.step(Gradients.zerosLike(net), 0);
        for (int i = 0; i < 6; i++) {
            assertEquals(W0[i] * 0.95f, net.layer(1).weights()[i], 1e-7f, "weight " + i + " * (1 - lr wd)");
        }
        assertArrayEquals(B0, net.layer(1).bias(), "biases do not decay");

        Network net2 = tiny();
        assertClose(referenceSgd(STEPS, 0.1, 0, 0.5), run(net2, new Sgd(net2, LearningRate.constant(0.1), 0, 0.5), STEPS));
    }

    // ---- Adam and AdamW ----

    @Test
    void adamFirstStepMovesEachParameterByTheLearningRate() {
        Network net = tiny();
        new Adam(net, LearningRate.constant(0.01)).step(gradients(net, 0), 0);
        // After bias correction m^ = g and v^ = g^2, so the step is lr * g / (|g| + eps) = lr * sign(g).
        double[] g = gradient(0);
        for (int i = 0; i < 6; i++) {
            double expected = W0[i] - (g[i] == 0 ? 0 : 0.01 * Math.signum(g[i]));
            assertEquals(expected, net.layer(1).weights()[i], 1e-7, "weight " + i);
        }
        assertEquals(0.125f, net.layer(1).weights()[2], 0f, "a zero gradient leaves the weight exactly alone");
        assertEquals(0.1 - 0.01, net.layer(1).bias()[0], 1e-7);
    }

    @Test
    void adamMatchesTheReference() {
        Network net = tiny();
        assertClose(referenceAdam(STEPS, 0.01, 0.9, 0.999, 1e-8, 0, false), run(net, new Adam(net, LearningRate.constant(0.01)), STEPS));
        Network net2 = tiny();
        assertClose(referenceAdam(STEPS, 0.05, 0.8, 0.99, 1e-3, 0, false),
                run(net2, new Adam(net2, LearningRate.constant(0.05), 0.8, 0.99, 1e-3, 0), STEPS));
    }

    @Test
    void adamWithL2MatchesTheReference() {
        Network net = tiny();
        assertClose(referenceAdam(STEPS, 0.01, 0.9, 0.999, 1e-8, 0.1, false),
                run(net, new Adam(net, LearningRate.constant(0.01), 0.9, 0.999, 1e-8, 0.1), STEPS));
    }

    @Test
    void adamWMatchesTheReference() {
        Network net = tiny();
        assertClose(referenceAdam(STEPS, 0.01, 0.9, 0.999, 1e-8, 0.1, true),
                run(net, new AdamW(net, LearningRate.constant(0.01), 0.9, 0.999, 1e-8, 0.1), STEPS));
    }

    @Test
    void adamWDecaysProportionallyWhileAdamsL2IsRescaled() {
        // With a zero gradient, Adam's L2 term wd*w is the whole gradient and Adam normalises it:
        // every weight moves by lr towards 0 whatever its size. AdamW shrinks each by the factor
        // (1 - lr wd) and Adam's own update is 0.
        Network adamNet = tiny();
        Network adamWNet = tiny();
        new Adam(adamNet, LearningRate.constant(0.01), 0.9, 0.999, 1e-8, 0.1).step(Gradients.zerosLike(adamNet), 0);
        new AdamW(adamWNet, LearningRate.constant(0.01), 0.9, 0.999, 1e-8, 0.1).step(Gradients.zerosLike(adamWNet), 0);
        for (int i = 0; i < 6; i++) {
            assertEquals(W0[i] - 0.01 * Math.signum(W0[i]), adamNet.layer(1).weights()[i], 1e-6, "adam weight " + i);
            assertEquals(W0[i] * (1 - 0.01f * 0.1f), adamWNet.layer(1).weights()[i], 1e-8, "adamw weight " + i);
        }
        assertArrayEquals(B0, adamNet.layer(1).bias(), "biases do not decay");
        assertArrayEquals(B0, adamWNet.layer(1).bias(), "biases do not decay");
    }

    @Test
    void adamWithoutDecayEqualsAdamWWithoutDecayBitForBit() {
        Network a = tiny();
        Network b = tiny();
        run(a, new Adam(a, LearningRate.constant(0.01)), STEPS);
        run(b, new AdamW(b, LearningRate.constant(0.01), 0.9, 0.999, 1e-8, 0), STEPS);
        assertArrayEquals(a.layer(1).weights(), b.layer(1).weights());
        assertArrayEquals(a.layer(1).bias(), b.layer(1).bias());
    }

    @Test
    void theScheduleSetsEachStepsRate() {
        // Rate 0 on even steps: those steps must not move anything (SGD without momentum).
        Network net = tiny();
        Sgd sgd = new Sgd(net, s -> s % 2 == 0 ? 0 : 0.1);
        sgd.step(gradients(net, 0), 0);
        assertArrayEquals(W0, net.layer(1).weights());
        sgd.step(gradients(net, 1), 1);
        assertEquals(0.504f, net.layer(1).weights()[0], 1e-7f);
    }

    // ---- state, names, errors ----

    @Test
    void stateBytes() {
        Network net = Network.builder(5).dense(2, 7, Activation.TANH).dense(3, Activation.IDENTITY).build(1);
        long params = net.parameterCount();
        assertEquals(7 * 6 + 7 * 8 + 3 * 8, params);
        LearningRate lr = LearningRate.constant(0.1);
        assertEquals(0, new Sgd(net, lr).stateBytes());
        assertEquals(0, new Sgd(net, lr, 0, 0.1).stateBytes(), "weight decay needs no state");
        assertEquals(4 * params, new Sgd(net, lr, 0.9, 0).stateBytes());
        assertEquals(8 * params, new Adam(net, lr).stateBytes());
        assertEquals(8 * params, new AdamW(net, lr).stateBytes());
    }

    @Test
    void names() {
        Network net = tiny();
        LearningRate lr = LearningRate.constant(0.1);
        assertEquals("sgd", new Sgd(net, lr, 0.9, 0).name());
        assertEquals("adam", new Adam(net, lr).name());
        assertEquals("adamw", new AdamW(net, lr).name());
        assertEquals("adamw(lr=constant(0.1), beta1=0.9, beta2=0.999, eps=1.0E-8, weight_decay=0.01)",
                new AdamW(net, lr).toString());
    }

    @Test
    void gradientsOfAnotherShapeAreRejected() {
        Network net = tiny();
        Network other = Network.builder(3).dense(4, Activation.IDENTITY).build(1);
        Network deeper = Network.builder(3).dense(2, 2, Activation.IDENTITY).build(1);
        for (Optimizer opt : List.of(new Sgd(net, LearningRate.constant(0.1)), new Adam(net, LearningRate.constant(0.1)))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.step(Gradients.zerosLike(other), 0));
            assertEquals("gradient of layer 1's weights has 12 values, the parameter has 6", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> opt.step(Gradients.zerosLike(deeper), 0));
            assertEquals("gradients are for 2 layers, the optimizer's network has 1", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> opt.step(Gradients.zerosLike(net), -1));
            assertEquals("step index must be >= 0, got -1", e.getMessage());
        }
        assertArrayEquals(W0, net.layer(1).weights(), "rejected steps change nothing");
    }

    @Test
    void badHyperparametersAreRejected() {
        Network net = tiny();
        LearningRate lr = LearningRate.constant(0.1);
        assertEquals("momentum must be in [0.0, 1.0), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> new Sgd(net, lr, 1.0, 0)).getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new Sgd(net, lr, 0, -1)).getMessage()
                .startsWith("weight decay must be in [0.0, "));
        assertEquals("beta1 must be in [0.0, 1.0), got 1.0",
                assertThrows(IllegalArgumentException.class, () -> new Adam(net, lr, 1.0, 0.999, 1e-8, 0)).getMessage());
        assertEquals("beta2 must be in [0.0, 1.0), got NaN",
                assertThrows(IllegalArgumentException.class, () -> new AdamW(net, lr, 0.9, Double.NaN, 1e-8, 0)).getMessage());
        assertEquals("eps must be a positive float, got 0.0",
                assertThrows(IllegalArgumentException.class, () -> new Adam(net, lr, 0.9, 0.999, 0, 0)).getMessage());
    }

    @Test
    void aScheduleGivingABadRateIsRefused() {
        Network net = tiny();
        Sgd sgd = new Sgd(net, s -> s == 3 ? Double.NaN : 0.1);
        sgd.step(gradients(net, 0), 0);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> sgd.step(gradients(net, 3), 3));
        assertTrue(e.getMessage().endsWith(" at step 3 is NaN; it must be finite and >= 0"), e.getMessage());
    }

    @Test
    void stepsAllocateNothing() {
        Network net = Network.builder(16).dense(3, 32, Activation.TANH).dense(4, Activation.IDENTITY).build(3);
        Gradients g = Gradients.zerosLike(net);
        for (Optimizer opt : List.of(new Sgd(net, LearningRate.cosine(0.01, 0, 100_000, 10), 0.9, 0.01),
                new Adam(net, LearningRate.step(1e-3, 100, 0.5), 0.9, 0.999, 1e-8, 0.01), new AdamW(net, LearningRate.constant(1e-3)))) {
            long bytes = Allocation.measure(() -> {
                for (int s = 0; s < 2000; s++) {
                    opt.step(g, s);
                }
            });
            assertTrue(bytes < 1024, opt.name() + " allocated " + bytes + " bytes in 2000 steps");
        }
    }
}
