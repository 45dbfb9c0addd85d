package dev.checkprop.kernel;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The reference products ({@link ChainReference}, the documented chains as plain loops) against a
 * plain double-precision computation that knows nothing of fma chains, so that the bit-exactness
 * tests (vector and scalar against the reference) rest on a reference that is itself right.
 *
 * <p><b>Bound.</b> A chain of {@code n} fused multiply-adds rounds once per step, each time with a
 * relative error of at most u = 2<sup>&minus;24</sup> of the partial sum (round to nearest), or an
 * absolute error of at most 2<sup>&minus;150</sup> when the partial sum is subnormal. The classical
 * bound for recursive summation then gives
 * <pre>|computed &minus; exact| &le; &gamma;<sub>n</sub> (|init| + &Sigma;|w a|) + n 2<sup>&minus;150</sup>,
 * &gamma;<sub>n</sub> = n u / (1 &minus; n u).</pre>
 * The double reference (float products are exact in double; n additions with u = 2<sup>&minus;53</sup>)
 * is off by at most &gamma;<sub>n</sub>(2<sup>&minus;53</sup>) &Sigma;, which is added to the bound.
 */
class ReferenceAccuracyTest {

    private static final DenseKernels REFERENCE = ChainReference.INSTANCE;

    private static double gamma(int n, double u) {
        return n * u / (1 - n * u);
    }

    /** Checks one computed element against the double sum {@code exact} of terms with magnitude {@code abs}. */
    private static void check(float computed, double exact, double abs, int n, String what) {
        double bound = (gamma(n, 0x1p-24) + gamma(n + 1, 0x1p-53)) * abs + n * 0x1p-150;
        double err = Math.abs(computed - exact);
        assertTrue(err <= bound, () -> what + ": |" + computed + " - " + exact + "| = " + err + " > " + bound);
    }

    @Test
    void scalarProductsMatchDoublePrecision() {
        SplittableRandom rnd = new SplittableRandom(41);
        int[][] shapes = {{7, 33, 17}, {64, 64, 64}, {17, 257, 31}, {100, 15, 100}, {3, 1000, 5}};
        long checked = 0;
        double worstRelativeToBound = 0;
        for (int[] sh : shapes) {
            int nOut = sh[0];
            int nIn = sh[1];
            int batch = sh[2];
            float[] w = KernelTestData.mixed(rnd, nOut * nIn);
            float[] b = KernelTestData.mixed(rnd, nOut);
            float[] a = KernelTestData.mixed(rnd, nIn * batch);
            float[] g = KernelTestData.mixed(rnd, nOut * batch);
            float[] aRows = new float[batch * nIn];
            DenseKernels.transpose(nIn, batch, a, aRows);

            float[] z = new float[nOut * batch];
            REFERENCE.forward(nOut, nIn, batch, w, b, a, z, 0, batch);
            for (int o = 0; o < nOut; o++) {
                for (int i = 0; i < batch; i++) {
                    double s = b[o];
                    double abs = Math.abs((double) b[o]);
                    for (int k = 0; k < nIn; k++) {
                        double t = (double) w[o * nIn + k] * a[k * batch + i];
                        s += t;
                        abs += Math.abs(t);
                    }
                    check(z[o * batch + i], s, abs, nIn, "forward o=" + o + " i=" + i);
                    worstRelativeToBound = Math.max(worstRelativeToBound,
                            Math.abs(z[o * batch + i] - s) / ((gamma(nIn, 0x1p-24)) * abs + nIn * 0x1p-150));
                    checked++;
                }
            }

            float[] gin = new float[nIn * batch];
            REFERENCE.backwardInput(nOut, nIn, batch, w, g, gin, 0, batch);
            for (int k = 0; k < nIn; k++) {
                for (int i = 0; i < batch; i++) {
                    double s = 0;
                    double abs = 0;
                    for (int o = 0; o < nOut; o++) {
                        double t = (double) w[o * nIn + k] * g[o * batch + i];
                        s += t;
                        abs += Math.abs(t);
                    }
                    check(gin[k * batch + i], s, abs, nOut, "backwardInput k=" + k + " i=" + i);
                    checked++;
                }
            }

            float[] dw = new float[nOut * nIn];
            REFERENCE.weightGradient(nOut, nIn, batch, g, aRows, dw, 0, nOut);
            for (int o = 0; o < nOut; o++) {
                for (int k = 0; k < nIn; k++) {
                    double s = 0;
                    double abs = 0;
                    for (int i = 0; i < batch; i++) {
                        double t = (double) g[o * batch + i] * a[k * batch + i];
                        s += t;
                        abs += Math.abs(t);
                    }
                    check(dw[o * nIn + k], s, abs, batch, "weightGradient o=" + o + " k=" + k);
                    checked++;
                }
            }
        }
        assertTrue(checked > 40_000, "elements checked: " + checked);
        // The bound is not vacuous: the errors use a visible part of it.
        assertTrue(worstRelativeToBound > 1e-4, "errors far below the bound: inputs too easy? worst error / bound = "
                + worstRelativeToBound);
    }

    /** A known case the fma chain gets right and a naive mul-then-add chain would not. */
    @Test
    void forwardUsesFusedMultiplyAdd() {
        // w*a = (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24: the last term is lost when the product is rounded
        // first (ties to even), kept by the fma with bias -1 - 2^-11.
        float x = 1f + 0x1p-12f;
        float[] w = {x};
        float[] b = {-(1f + 0x1p-11f)};
        float[] a = {x};
        float[] z = new float[1];
        REFERENCE.forward(1, 1, 1, w, b, a, z, 0, 1);
        assertTrue(z[0] == 0x1p-24f, "fma result " + z[0]);
        VectorKernels.INSTANCE.forward(1, 1, 1, w, b, a, z, 0, 1);
        assertTrue(z[0] == 0x1p-24f, "vector fma result " + z[0]);
    }
}
