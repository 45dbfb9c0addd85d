package dev.checkprop.nn;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link Loss#MSE} gives exactly the bits of its definition, written the plain way here: the loss
 * is the sum over samples, in order, of half of each sample's double-precision sum of squared
 * differences over its units, in order, divided by the batch size; the gradient is each difference divided by the batch size.
 * (The library's loop takes several samples at a time for the cache; it must not change a bit.)
 */
class MseLossTest {

    @Test
    void sameBitsAsThePlainDefinition() {
        final SplittableRandom rnd = new SplittableRandom(5);
        for (int n : new int[] {1, 2, 3, 4, 5, 7, 8, 13, 64, 67}) {
            for (int nL : new int[] {1, 2, 3, 5, 16, 33}) {
                final float[] out = new float[nL * n];
                final float[] y = new float[n * nL];
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) (rnd.nextDouble() * 20 - 10);
                    y[i] = (float) (rnd.nextDouble() * 20 - 10);
                }
                final Batch batch = Batch.regression(new float[n], 1, y, nL);
                final float[] delta = new float[nL * n];
                final double loss = Loss.MSE.lossAndGradient(out, nL, batch, delta);

                double expected = 0;
                final float[] expectedDelta = new float[nL * n];
                for (int i = 0; i < n; i++) {
                    double c = 0;
                    for (int u = 0; u < nL; u++) {
                        final float d = out[u * n + i] - y[i * nL + u];
                        c += (double) d * d;
                        expectedDelta[u * n + i] = d / (float) n;
                    }
                    expected += 0.5 * c;
                }
                assertEquals(Double.doubleToRawLongBits(expected / n), Double.doubleToRawLongBits(loss), "n=" + n + " nL=" + nL);
                assertArrayEquals(expectedDelta, delta, "n=" + n + " nL=" + nL);
            }
        }
    }
}
