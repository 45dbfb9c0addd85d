package dev.checkprop.hvp;

import dev.checkprop.exec.Executor;
import dev.checkprop.kernel.Kernels;
import dev.checkprop.nn.Activation;
import dev.checkprop.nn.Curvature;
import dev.checkprop.nn.Gradients;
import dev.checkprop.nn.LayerNormLayer;
import dev.checkprop.nn.Loss;
import dev.checkprop.nn.Network;
import dev.checkprop.plan.Planners;
import dev.checkprop.reference.DoubleReference;
import dev.checkprop.reference.TestNets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hessian- and Gauss-Newton-vector products through LayerNorm, with the checks and bounds of
 * {@link HessianVectorTest} (whose notes derive them): the double reference's R-operator against
 * central differences of its gradient, the float products against the double R-operator, symmetry,
 * G against the explicit J<sup>T</sup> H J, and the gradient of a product run against a plain one.
 */
class LayerNormCurvatureTest {

    /** Float products against double ones, normwise: see {@link #floatProductsMatchTheDoubleROperator}. */
    private static final double FLOAT_BOUND = 1e-5;

    static Stream<TestNets.Case> cases() {
        Network edges = TestNets.layerNormEdges(51);
        Network gelu = TestNets.layerNormMixed(7, 10, 16, 8, Activation.GELU, Activation.GELU, Activation.IDENTITY, 0.3f, 53);
        return Stream.of(
                new TestNets.Case("gelu dense and residual with layernorms, mse", gelu, TestNets.regression(gelu, 6, 13), Loss.MSE),
                new TestNets.Case("gelu dense and residual with layernorms, softmax-ce", gelu,
                        TestNets.classification(gelu, 7, 14), Loss.SOFTMAX_CROSS_ENTROPY),
                TestNets.layerNormMse(7),
                TestNets.layerNormSoftmax(9),
                new TestNets.Case("layernorm first, twice, after dropout and last, mse", edges,
                        TestNets.regression(edges, 6, 11), Loss.MSE),
                new TestNets.Case("layernorm first, twice, after dropout and last, softmax-ce", edges,
                        TestNets.classification(edges, 8, 12), Loss.SOFTMAX_CROSS_ENTROPY));
    }

    /**
     * As HessianVectorTest's, with h = 5e-5 rather than 1e-4: LayerNorm's r = 1/&radic;(&sigma;&sup2; + &epsilon;)
     * enters the third derivative cubed, so the truncation error h&sup2;/6 &middot; |D&sup3;L[v, v, &middot;]| is
     * larger than for dense layers (measured up to 1.7e-6 relative at h = 1e-4, 9e-8..1.9e-7 at 5e-5).
     * Rounding, &epsilon;&middot;|&nabla;L|/h &asymp; 1e-16/5e-5 = 2e-12, stays negligible. The bound 1e-6 and the
     * fourfold drop when h is halved are HessianVectorTest's; the terms that distinguish H from G are
     * 80&ndash;230% of H&middot;v here (asserted above 10%), so a missing term fails by five orders of magnitude.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void referenceROperatorMatchesFiniteDifferencesOfTheGradient(TestNets.Case c) {
        DoubleReference ref = new DoubleReference(c.net());
        double[] theta = ref.flatten(c.net());
        double[] v = ref.flatten(TestNets.direction(c.net(), 3));
        double h = 5e-5;
        double[] rop = ref.product(theta, c.data(), c.loss(), v, false);
        assertTrue(ref.minReluMargin > 10 * h, c + ": a relu pre-activation is within 10h of its kink; pick another seed");
        double err = DoubleReference.relativeError(rop, ref.finiteDifferenceProduct(theta, c.data(), c.loss(), v, h));
        assertTrue(err < 1e-6, c + ": |Hv - FD| / |FD| = " + err);
        double errHalf = DoubleReference.relativeError(rop, ref.finiteDifferenceProduct(theta, c.data(), c.loss(), v, h / 2));
        assertTrue(errHalf < err / 3, c + ": halving h took the error from " + err + " to " + errHalf
                + ", not the fourfold drop of an O(h²) truncation error");
        double[] gn = ref.product(theta, c.data(), c.loss(), v, true);
        assertTrue(DoubleReference.relativeError(gn, rop) > 0.1, c + ": H·v and G·v barely differ; the test would not see a wrong H term");
    }

    /**
     * Float against double, normwise. HessianVectorTest's rounding estimate holds, but LayerNorm's
     * 1/&radic;(&sigma;&sup2; + &epsilon;) amplifies the rounding of x &minus; &mu; where a sample's spread is small:
     * measured 2.0e-7..9.8e-7 (the largest with LayerNorm on the raw inputs), against 5e-8..2e-7 for
     * dense chains. So 1e-5, ten times the largest measurement, as HessianVectorTest chose 2e-6 for its
     * own; a wrong or missing term is 1e-1 or more (see above).
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
            double err = DoubleReference.relativeError(HessianVectorTest.floatProduct(c, vg, k), expected);
            assertTrue(err < FLOAT_BOUND, c + ", " + k.label() + ": |Cv_float - Cv_double| / |Cv_double| = " + err);
        }
        // LayerNorm's own parts of the product are not negligible: a wrong term there would show.
        for (int l = 1; l <= c.net().depth(); l++) {
            if (c.net().layer(l) instanceof LayerNormLayer) {
                double[] hv = ref.product(theta, c.data(), c.loss(), v, false);
                double part = 0;
                for (int j = ref.wOff[l]; j < ref.bOff[l] + c.net().layer(l).bias().length; j++) {
                    part += hv[j] * hv[j];
                }
                assertTrue(Math.sqrt(part) > 1e-3 * DoubleReference.norm(hv), c + ": layer " + l + "'s part of H·v is tiny");
            }
        }
    }

    /** u·(Cv) = v·(Cu): 1e-12 in double, {@link #FLOAT_BOUND} in float (|u·Δ| ≤ |u||Δ|), of |u||Cv| + |v||Cu|. */
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
            double[] fhu = HessianVectorTest.floatProduct(c, ug, k);
            double[] fhv = HessianVectorTest.floatProduct(c, vg, k);
            double fscale = DoubleReference.norm(u) * DoubleReference.norm(fhv) + DoubleReference.norm(v) * DoubleReference.norm(fhu);
            double fasym = Math.abs(DoubleReference.dot(u, fhv) - DoubleReference.dot(v, fhu)) / fscale;
            assertTrue(fasym < FLOAT_BOUND, c + ", " + k.label() + ": float asymmetry " + fasym);
        }
    }

    static Stream<TestNets.Case> tinyCases() {
        Network base = Network.builder(3).dense(4, Activation.TANH).dropout(0.3f).dense(3, Activation.IDENTITY).build(61);
        Network net = TestNets.withRandomBias(TestNets.withLayerNorms(base, 62, 0, 1), 63);
        return Stream.of(
                new TestNets.Case("tiny layernorm, mse", net, TestNets.regression(net, 5, 13), Loss.MSE),
                new TestNets.Case("tiny layernorm, softmax-ce", net, TestNets.classification(net, 5, 14), Loss.SOFTMAX_CROSS_ENTROPY));
    }

    /**
     * G·v against the explicit (1/N) Σ J<sub>s</sub><sup>T</sup> H<sub>s</sub> J<sub>s</sub> (J from the reference's
     * forward R-pass only, so LayerNorm's backward R-terms play no part in it), to 1e-12 in double and
     * {@link #FLOAT_BOUND} in float, and G positive semi-definite, as in HessianVectorTest.
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
            double[] got = HessianVectorTest.floatProduct(c, vg, Curvature.GAUSS_NEWTON);
            double err = DoubleReference.relativeError(got, expected);
            assertTrue(err < FLOAT_BOUND, c + ": |Gv_float - (J^T H J) v| / |(J^T H J) v| = " + err);
            assertTrue(DoubleReference.dot(v, got) > 0, c + ": v·Gv = " + DoubleReference.dot(v, got));
        }
        double trace = 0;
        for (int p = 0; p < ref.size; p++) {
            trace += g[p][p];
        }
        assertTrue(HessianVectorTest.cholesky(g, 1e-12 * trace), c + ": G + 1e-12·tr(G)·I has no Cholesky factor");
    }

    /** The loss and gradient of a product run are a plain run's, bit for bit, under a recomputing plan and two threads. */
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
                double loss = ex.hessianVector(c.data(), c.loss(), TestNets.direction(net, 5), g, Gradients.zerosLike(net), k);
                assertEquals(Double.doubleToRawLongBits(plainLoss), Double.doubleToRawLongBits(loss), c + ": loss");
                assertTrue(g.bitEquals(plain), c + ", " + k.label() + ": gradient of the product run");
            }
        }
    }
}
