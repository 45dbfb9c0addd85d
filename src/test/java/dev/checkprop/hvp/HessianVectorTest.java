package dev.checkprop.hvp;

import dev.checkprop.reference.TestNets;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.nn.Curvature;
import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The products are right: the double reference's R-operator agrees with central differences of its
 * gradient (which checks the derivation), and the executor's float products agree with the double
 * R-operator (which checks the implementation), for every layer kind, activation and loss; H is
 * symmetric; G is J<sup>T</sup> H<sub>loss</sub> J and positive semi-definite.
 */
class HessianVectorTest {

    static Stream<TestNets.Case> cases() {
        List<TestNets.Case> c = new ArrayList<>();
        for (Activation f : Activation.values()) {
            c.add(TestNets.dense(f, Activation.IDENTITY, 6));
        }
        // A nonlinear output layer under mse: the output's own f'' enters H but not G.
        c.add(TestNets.dense(Activation.TANH, Activation.SIGMOID, 5));
        c.add(TestNets.mixedMse(7));
        c.add(TestNets.mixedSoftmax(9));
        return c.stream();
    }

    static double[] floatProduct(TestNets.Case c, Gradients v, Curvature curvature) {
        Network net = c.net();
        Gradients hv = Gradients.zerosLike(net);
        try (Executor ex = Executor.forHessianProducts(net, Planners.parse("full").plan(net.depth()), c.data().size(),
                Kernels.get(), 1)) {
            ex.hessianVector(c.data(), c.loss(), v, null, hv, curvature);
        }
        return new DoubleReference(net).flatten(hv);
    }

    /**
     * The derivation, in double: the R-operator against central differences of the gradient along v
     * with h = 1e-4. The differences' error is truncation, h²/6 times the third directional
     * derivative (measured 4e-9..2e-7 relative here), plus rounding, ε·|∇L|/h ≈ 1e-12; that it is
     * truncation is checked by halving h, which must cut it about fourfold (it would not if the
     * R-operator missed a term: then the error would stay at that term's size). The bound 1e-6 fails
     * on any missing or wrong term: the terms that distinguish H from G alone are 40–90% of H·v here.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void referenceROperatorMatchesFiniteDifferencesOfTheGradient(TestNets.Case c) {
        DoubleReference ref = new DoubleReference(c.net());
        double[] theta = ref.flatten(c.net());
        double[] v = ref.flatten(TestNets.direction(c.net(), 3));
        double h = 1e-4;
        double[] rop = ref.product(theta, c.data(), c.loss(), v, false);
        // relu: the perturbation ±h·v must not cross a kink, or differences see the Dirac mass R-op ignores.
        assertTrue(ref.minReluMargin > 10 * h, c + ": a relu pre-activation is within 10h of its kink; pick another seed");
        double[] fd = ref.finiteDifferenceProduct(theta, c.data(), c.loss(), v, h);
        double err = DoubleReference.relativeError(rop, fd);
        assertTrue(err < 1e-6, c + ": |Hv - FD| / |FD| = " + err);
        double errHalf = DoubleReference.relativeError(rop, ref.finiteDifferenceProduct(theta, c.data(), c.loss(), v, h / 2));
        assertTrue(errHalf < err / 3, c + ": halving h took the error from " + err + " to " + errHalf
                + ", not the fourfold drop of an O(h²) truncation error");
    }

    /**
     * The implementation, in float: the executor's H·v and G·v against the double R-operator on the
     * same (float) parameters and inputs, so the difference is rounding only. The executor rounds to
     * float (u = 2^-24 ≈ 6e-8) after every fma; a product element sums O(width·N) ≈ 60 terms, through a
     * chain of up to 11 layers forward and back, with MathF's tanh/sigmoid within a few ulp: a
     * first-order worst-case bound of order (11·2·60)·u ≈ 1e-4 relative to the sum of |terms|.
     * Rounding errors are not worst-case but random-signed, so they grow like the square root of the
     * operation count: measured 5e-8..2e-7 normwise. We bound by 2e-6, ten times the largest
     * measurement and five orders of magnitude below any wrong term (see above).
     */
    @ParameterizedTest
    @MethodSource("cases")
    void floatProductsMatchTheDoubleROperator(TestNets.Case c) {
        DoubleReference ref = new DoubleReference(c.net());
        double[] theta = ref.flatten(c.net());
        Gradients vg = TestNets.direction(c.net(), 3);
        double[] v = ref.flatten(vg);
        for (Curvature k : Curvature.values()) {
            double[] expected = ref.product(theta, c.data(), c.loss(), v, k == Curvature.GAUSS_NEWTON);
            double[] got = floatProduct(c, vg, k);
            double err = DoubleReference.relativeError(got, expected);
            assertTrue(err < 2e-6, c + ", " + k.label() + ": |Cv_float - Cv_double| / |Cv_double| = " + err);
        }
    }

    /**
     * H and G are symmetric: u·(Cv) = v·(Cu). In the double reference to 1e-12 of the scale
     * |u||Cv| + |v||Cu| (rounding only); in float to 2e-6 of it, since each product is within 2e-7
     * of the exact one normwise (previous test) and |u·Δ| ≤ |u||Δ|.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void productsAreSymmetric(TestNets.Case c) {
        DoubleReference ref = new DoubleReference(c.net());
        double[] theta = ref.flatten(c.net());
        Gradients ug = TestNets.direction(c.net(), 31);
        Gradients vg = TestNets.direction(c.net(), 32);
        double[] u = ref.flatten(ug);
        double[] v = ref.flatten(vg);
        for (Curvature k : Curvature.values()) {
            boolean gn = k == Curvature.GAUSS_NEWTON;
            double[] hu = ref.product(theta, c.data(), c.loss(), u, gn);
            double[] hv = ref.product(theta, c.data(), c.loss(), v, gn);
            double scale = DoubleReference.norm(u) * DoubleReference.norm(hv) + DoubleReference.norm(v) * DoubleReference.norm(hu);
            double asym = Math.abs(DoubleReference.dot(u, hv) - DoubleReference.dot(v, hu)) / scale;
            assertTrue(asym < 1e-12, c + ", " + k.label() + ": double asymmetry " + asym);

            double[] fhu = floatProduct(c, ug, k);
            double[] fhv = floatProduct(c, vg, k);
            double fscale = DoubleReference.norm(u) * DoubleReference.norm(fhv) + DoubleReference.norm(v) * DoubleReference.norm(fhu);
            double fasym = Math.abs(DoubleReference.dot(u, fhv) - DoubleReference.dot(v, fhu)) / fscale;
            assertTrue(fasym < 2e-6, c + ", " + k.label() + ": float asymmetry " + fasym);
        }
    }

    static Stream<TestNets.Case> tinyCases() {
        Network dense = TestNets.withRandomBias(Network.builder(3).dense(5, Activation.TANH).dense(2, Activation.SIGMOID).build(41), 2);
        Network mixed = TestNets.withRandomBias(Network.builder(3).dense(4, Activation.TANH).residual(1, Activation.SIGMOID)
                .dropout(0.3f).dense(3, Activation.IDENTITY).build(43), 3);
        return Stream.of(
                new TestNets.Case("tiny dense, sigmoid output, mse", dense, TestNets.regression(dense, 4, 8), Loss.MSE),
                new TestNets.Case("tiny residual + dropout, mse", mixed, TestNets.regression(mixed, 5, 9), Loss.MSE),
                new TestNets.Case("tiny residual + dropout, softmax-ce", mixed, TestNets.classification(mixed, 5, 10),
                        Loss.SOFTMAX_CROSS_ENTROPY));
    }

    /**
     * G·v against the explicit matrix (1/N) Σ J<sub>s</sub><sup>T</sup> H<sub>s</sub> J<sub>s</sub>, with J
     * built column by column by the reference's forward R-pass (J e<sub>p</sub>) and H<sub>s</sub> written out
     * (I, or diag p − p p<sup>T</sup>): the backward pass plays no part in it. Then G is positive
     * semi-definite: the explicit matrix has a Cholesky factor after a shift of 1e-12·trace (its
     * negative eigenvalues, if any, are rounding), and the executor's v·Gv is positive for random v.
     */
    @ParameterizedTest
    @MethodSource("tinyCases")
    void gaussNewtonIsJTransposeHJAndPositiveSemiDefinite(TestNets.Case c) {
        DoubleReference ref = new DoubleReference(c.net());
        assertTrue(ref.size <= 60, "a tiny network: " + ref.size + " parameters");
        double[] theta = ref.flatten(c.net());
        double[][] g = ref.gaussNewtonMatrix(theta, c.data(), c.loss());
        for (int seed = 0; seed < 5; seed++) {
            Gradients vg = TestNets.direction(c.net(), 100 + seed);
            double[] v = ref.flatten(vg);
            double[] expected = new double[ref.size];
            for (int p = 0; p < ref.size; p++) {
                expected[p] = DoubleReference.dot(g[p], v);
            }
            double[] viaRop = ref.product(theta, c.data(), c.loss(), v, true);
            assertTrue(DoubleReference.relativeError(viaRop, expected) < 1e-12, c + ": reference R-op G·v vs explicit J^T H J v");
            double[] got = floatProduct(c, vg, Curvature.GAUSS_NEWTON);
            double err = DoubleReference.relativeError(got, expected);
            assertTrue(err < 2e-6, c + ": |Gv_float - (J^T H J) v| / |(J^T H J) v| = " + err);
            assertTrue(DoubleReference.dot(v, got) > 0, c + ": v·Gv = " + DoubleReference.dot(v, got));
        }
        double trace = 0;
        for (int p = 0; p < ref.size; p++) {
            trace += g[p][p];
            for (int q = 0; q < p; q++) {
                assertEquals(g[p][q], g[q][p], 1e-14 * Math.abs(g[p][p] + g[q][q]) + 1e-300, "G symmetric");
            }
        }
        assertTrue(cholesky(g, 1e-12 * trace), c + ": G + 1e-12·tr(G)·I has no Cholesky factor: G is not PSD");
    }

    /** Whether A + shift·I has a Cholesky factor (A symmetric). */
    static boolean cholesky(double[][] a, double shift) {
        int n = a.length;
        double[][] l = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j] + (i == j ? shift : 0);
                for (int k = 0; k < j; k++) {
                    s -= l[i][k] * l[j][k];
                }
                if (i == j) {
                    if (!(s > 0)) {
                        return false;
                    }
                    l[i][i] = Math.sqrt(s);
                } else {
                    l[i][j] = s / l[j][j];
                }
            }
        }
        return true;
    }

    /** The check above can fail: a symmetric indefinite matrix has no shifted Cholesky factor. */
    @Test
    void choleskyRejectsAnIndefiniteMatrix() {
        assertTrue(cholesky(new double[][] {{2, 0}, {0, 1}}, 1e-12));
        assertTrue(!cholesky(new double[][] {{1, 2}, {2, 1}}, 1e-12));
    }

    /** The gradient and loss from a product run are those of a plain gradient run, bit for bit. */
    @ParameterizedTest
    @MethodSource("cases")
    void gradientFromProductRunIsThePlainGradient(TestNets.Case c) {
        Network net = c.net();
        var plan = Planners.parse("sqrt").plan(net.depth());
        Gradients plain = Gradients.zerosLike(net);
        double plainLoss;
        try (Executor ex = new Executor(net, plan, c.data().size(), Kernels.get(), 2)) {
            plainLoss = ex.gradient(c.data(), c.loss(), plain);
        }
        try (Executor ex = Executor.forHessianProducts(net, plan, c.data().size(), Kernels.get(), 2)) {
            for (Curvature k : Curvature.values()) {
                Gradients g = Gradients.zerosLike(net);
                Gradients hv = Gradients.zerosLike(net);
                double loss = ex.hessianVector(c.data(), c.loss(), TestNets.direction(net, 5), g, hv, k);
                assertEquals(Double.doubleToRawLongBits(plainLoss), Double.doubleToRawLongBits(loss), c + ": loss");
                for (int l = 1; l <= net.depth(); l++) {
                    assertArrayEquals(HvpPlanEquivalenceTest.bits(plain.weights(l)), HvpPlanEquivalenceTest.bits(g.weights(l)), c + " W" + l);
                    assertArrayEquals(HvpPlanEquivalenceTest.bits(plain.bias(l)), HvpPlanEquivalenceTest.bits(g.bias(l)), c + " b" + l);
                }
                // And a plain gradient on the Hessian-mode executor afterwards is still the plain one.
                Gradients again = Gradients.zerosLike(net);
                assertEquals(Double.doubleToRawLongBits(plainLoss), Double.doubleToRawLongBits(ex.gradient(c.data(), c.loss(), again)));
                assertTrue(again.bitEquals(plain), c + ": gradient() on a Hessian-mode executor");
            }
        }
    }

    /** H·v is linear in v: H·(2v) = 2·(H·v) exactly (scaling by 2 is exact in float, and so is every step after). */
    @Test
    void productIsLinearInTheDirection() {
        TestNets.Case c = TestNets.mixedSoftmax(6);
        Gradients v = TestNets.direction(c.net(), 9);
        Gradients v2 = TestNets.direction(c.net(), 9);
        Directions.scale(2f, v2);
        for (Curvature k : Curvature.values()) {
            double[] a = floatProduct(c, v, k);
            double[] b = floatProduct(c, v2, k);
            for (int j = 0; j < a.length; j++) {
                assertEquals(2 * a[j], b[j], 0.0, k.label() + " element " + j);
            }
        }
    }

    @Test
    void plainExecutorRefusesProductsAndArgumentsAreChecked() {
        TestNets.Case c = TestNets.mixedMse(4);
        Network net = c.net();
        var plan = Planners.parse("full").plan(net.depth());
        Gradients v = TestNets.direction(net, 1);
        Gradients hv = Gradients.zerosLike(net);
        try (Executor ex = new Executor(net, plan, 4)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ex.hessianVector(c.data(), c.loss(), v, null, hv, Curvature.HESSIAN));
            assertTrue(e.getMessage().contains("forHessianProducts"), e.getMessage());
            assertTrue(!ex.hessianProducts());
        }
        try (Executor ex = Executor.forHessianProducts(net, plan, 4, Kernels.get(), 1)) {
            assertTrue(ex.hessianProducts());
            IllegalArgumentException alias = assertThrows(IllegalArgumentException.class,
                    () -> ex.hessianVector(c.data(), c.loss(), v, null, v, Curvature.HESSIAN));
            assertTrue(alias.getMessage().contains("distinct"), alias.getMessage());
            Network other = TestNets.withRandomBias(Network.builder(6).dense(3, Activation.TANH).dense(4, Activation.IDENTITY).build(1), 1);
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                    () -> ex.hessianVector(c.data(), c.loss(), Gradients.zerosLike(other), null, hv, Curvature.HESSIAN));
            assertTrue(shape.getMessage().contains("direction"), shape.getMessage());
            // The executor is still usable after a refused call.
            ex.hessianVector(c.data(), c.loss(), v, null, hv, Curvature.GAUSS_NEWTON);
        }
    }
}
