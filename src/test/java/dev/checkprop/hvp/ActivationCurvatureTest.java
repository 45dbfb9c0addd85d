package dev.checkprop.hvp;

import dev.checkprop.reference.TestNets;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.nn.ActivationCurvature;
import dev.checkprop.nn.LossCurvature;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Batch;
import dev.checkprop.nn.Loss;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** f'' recovered from the output, and the loss's Hessian applied to a vector. */
class ActivationCurvatureTest {

    /**
     * f''(z) from a = f(z) (rounded to float, as the executor stores it) against central differences of
     * the exact f' in double with h = 1e-4: truncation h²/6·|f''''| ≤ 1e-8 (|f''''| ≤ 5 for tanh), and
     * the float a is within 2 ulp (2.4e-7 near 1) of the exact output, which moves f''(a) by at most
     * max|d f''/da|·2.4e-7 ≤ 6·2.4e-7 ≈ 1.5e-6 (tanh: f'' = −2a(1 − a²), |d/da| ≤ 2). Bound 2e-6.
     */
    @ParameterizedTest
    @EnumSource(value = Activation.class, mode = EnumSource.Mode.EXCLUDE, names = "GELU") // from the output; GELU's is from z (kernel tests)
    void secondDerivativeFromOutputMatchesFiniteDifferencesOfTheFirst(Activation f) {
        double h = 1e-4;
        double worst = 0;
        for (int i = -600; i <= 600; i++) {
            double z = i / 100.0 + 0.003; // never exactly 0, relu's kink
            float a = f.apply((float) z);
            double expected = (DoubleReference.act1(f, (float) z + h) - DoubleReference.act1(f, (float) z - h)) / (2 * h);
            double got = ActivationCurvature.secondDerivativeFromOutput(f, a);
            worst = Math.max(worst, Math.abs(got - expected));
            assertEquals(expected, got, 2e-6, f + " at z = " + z);
        }
        if (f == Activation.TANH || f == Activation.SIGMOID) {
            // Not vacuous: the second derivative is far from 0 somewhere on the grid.
            double peak = 0;
            for (int i = -600; i <= 600; i++) {
                peak = Math.max(peak, Math.abs(ActivationCurvature.secondDerivativeFromOutput(f, f.apply(i / 100f))));
            }
            assertTrue(peak > 0.09, f + ": max |f''| = " + peak);
        }
        assertTrue(worst < 2e-6);
    }

    @Test
    void ratioIsTheDocumentedPolynomial() {
        assertEquals(-1.0f, ActivationCurvature.secondOverFirst(Activation.TANH, 0.5f));
        assertEquals(0.0f, ActivationCurvature.secondOverFirst(Activation.SIGMOID, 0.5f));
        assertEquals(0.0f, ActivationCurvature.secondOverFirst(Activation.RELU, 3f));
        assertEquals(0.0f, ActivationCurvature.secondOverFirst(Activation.IDENTITY, 3f));
        assertTrue(ActivationCurvature.isPiecewiseLinear(Activation.RELU));
        assertTrue(!ActivationCurvature.isPiecewiseLinear(Activation.SIGMOID));
    }

    /** The bulk term is fma(g, ρ(a)·R{a}, rδ) element by element, and leaves rδ untouched for piecewise-linear f. */
    @ParameterizedTest
    @EnumSource(value = Activation.class, mode = EnumSource.Mode.EXCLUDE, names = "GELU") // from the output; GELU's is from z (kernel tests)
    void curvatureTermIsTheDocumentedExpression(Activation f) {
        float[] a = TestNets.uniform(40, 1, 1, 0.99f);
        float[] ra = TestNets.uniform(40, 1, 2, 2f);
        float[] g = TestNets.uniform(40, 1, 3, 2f);
        float[] rd = TestNets.uniform(40, 1, 4, 2f);
        rd[5] = -0f;
        float[] before = rd.clone();
        ActivationCurvature.addCurvatureTerm(f, a, ra, g, rd, 3, 37);
        for (int j = 0; j < 40; j++) {
            float expected = j < 3 || j >= 37 || ActivationCurvature.isPiecewiseLinear(f) ? before[j]
                    : Math.fma(g[j], ActivationCurvature.secondOverFirst(f, a[j]) * ra[j], before[j]);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(rd[j]), f + " element " + j);
        }
    }

    /**
     * The loss's Hessian times r against central differences of its gradient along r, in double on
     * the same logits: mse exactly r/N; softmax-ce within 1e-6 relative (float rounding of the result,
     * 6e-8, plus differences' truncation, h² ≈ 1e-8).
     */
    @Test
    void lossCurvatureIsTheDirectionalDerivativeOfTheLossGradient() {
        int n = 5;
        int nL = 4;
        float[] out = TestNets.uniform(n * nL, 3, 1, 3f);
        float[] r = TestNets.uniform(n * nL, 3, 2, 1f);
        float[] rd = new float[n * nL];
        Batch reg = Batch.regression(new float[n], 1, TestNets.uniform(n * nL, 3, 3, 1f), nL);
        LossCurvature.rGradient(Loss.MSE, out, r, nL, reg, rd);
        for (int j = 0; j < rd.length; j++) {
            assertEquals(r[j] / (float) n, rd[j], 0f);
        }
        int[] labels = {0, 3, 1, 1, 2};
        Batch cls = Batch.classification(new float[n], 1, labels);
        LossCurvature.rGradient(Loss.SOFTMAX_CROSS_ENTROPY, out, r, nL, cls, rd);
        double h = 1e-4;
        for (int i = 0; i < n; i++) {
            for (int u = 0; u < nL; u++) {
                double fd = (softmaxGrad(out, r, h, n, nL, i, u, labels[i]) - softmaxGrad(out, r, -h, n, nL, i, u, labels[i])) / (2 * h);
                assertEquals(fd, rd[u * n + i], 1e-6 * Math.abs(fd) + 1e-9, "sample " + i + " unit " + u);
            }
        }
    }

    /** ∂c/∂a_u / N for sample i at logits out + t·r (unit-major), in double. */
    private static double softmaxGrad(float[] out, float[] r, double t, int n, int nL, int i, int u, int label) {
        double sum = 0;
        for (int k = 0; k < nL; k++) {
            sum += Math.exp(out[k * n + i] + t * r[k * n + i]);
        }
        return (Math.exp(out[u * n + i] + t * r[u * n + i]) / sum - (u == label ? 1 : 0)) / n;
    }
}
