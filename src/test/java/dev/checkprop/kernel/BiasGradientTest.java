package dev.checkprop.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The bias gradient is the plain left-to-right sum of each row, whatever the row count (rows are
 * summed four at a time), flushed to zero if subnormal only in flush mode.
 */
class BiasGradientTest {

    @Test
    void eachRowIsItsLeftToRightSum() {
        SplittableRandom rnd = new SplittableRandom(41);
        for (boolean flush : new boolean[] {true, false}) {
            DenseKernels k = ScalarKernels.INSTANCE.withSubnormals(flush);
            for (int rows = 1; rows <= 11; rows++) {
                int batch = 1 + rnd.nextInt(70);
                float[] g = KernelTestData.mixed(rnd, rows * batch);
                // a row whose sum is subnormal: exercises the flush
                g[0] = 1e-39f;
                for (int i = 1; i < batch; i++) {
                    g[i] = 0f;
                }
                int o0 = rnd.nextInt(rows);
                float[] db = KernelTestData.filled(rows, KernelTestData.SENTINEL);
                k.biasGradient(batch, g, db, o0, rows);
                for (int o = 0; o < rows; o++) {
                    float s = 0f;
                    for (int i = 0; i < batch; i++) {
                        s += g[o * batch + i];
                    }
                    float expected = o < o0 ? KernelTestData.SENTINEL : flush ? Subnormals.flush(s) : s;
                    assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(db[o]),
                            "row " + o + " of " + rows + ", batch " + batch + ", flush " + flush);
                }
            }
        }
    }
}
