package dev.checkprop.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The transpose, whole and by column ranges, for shapes around its blocks (8 rows, 256 columns). */
class TransposeTest {

    @Test
    void copiesEveryElementToItsPlaceAndNothingElse() {
        int[] sizes = {1, 3, 7, 8, 9, 16, 17, 255, 256, 257, 600};
        for (int rows : sizes) {
            for (int cols : sizes) {
                if ((long) rows * cols > 100_000) {
                    continue;
                }
                float[] src = new float[rows * cols];
                for (int j = 0; j < src.length; j++) {
                    src[j] = j + 0.5f;
                }
                int c0 = cols / 3;
                int c1 = cols - cols / 5;
                float[] dst = KernelTestData.filled(rows * cols, KernelTestData.SENTINEL);
                DenseKernels.transpose(rows, cols, src, dst, c0, c1);
                for (int c = 0; c < cols; c++) {
                    for (int r = 0; r < rows; r++) {
                        float expected = c >= c0 && c < c1 ? src[r * cols + c] : KernelTestData.SENTINEL;
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(dst[c * rows + r]),
                                rows + " x " + cols + " [" + c0 + ", " + c1 + "): dst[" + c + "][" + r + "]");
                    }
                }
            }
        }
    }
}
